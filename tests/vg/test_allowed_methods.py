"""A 405 answer names in ``Allow`` every method its resource supports (RFC 9110
15.5.6), on every route of the application: API and pages alike."""

from __future__ import annotations

import re
from collections import defaultdict

import pytest

from vg.allowed_methods import is_refusal
from vg.api import consent, dpo, employment, feed, groups, holder, inbox
from vg.api import organisation, pod_resources, pod_rights, swipes, teams, videos
from vg.web import pages_dpo, pages_grants, pages_holder, pages_login, pages_org
from vg.web import pages_org_video, pages_sharing, pages_team, pages_video, pages_work
from vg.web import skills
from tests.vg.test_api import _holder, _skills
from tests.vg.test_api import api  # noqa: F401  (a fixture used by name)

API = (consent, holder, inbox, organisation, employment, dpo, swipes, feed, teams,
       groups, pod_rights, pod_resources, videos)
PAGES = (pages_login, pages_holder, pages_grants, pages_sharing, pages_team,
         pages_video, pages_work, pages_org, pages_org_video, pages_dpo, skills)
TRIED = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# A value for each path parameter that the paths' own checks take.
VALUES = {"pod_id": "0" * 32, "grant_ref": "0" * 8 + "-0000-4000-8000-" + "0" * 12,
          "message_id": "0" * 32, "subject": "0" * 32, "name": "a", "slug": "a",
          "number": "1", "index": "1", "assignment_id": "1", "product_id": "1",
          "employee": "0" * 32, "share": "0" * 32, "address": "a" * 52}


def resources() -> dict[str, tuple[set[str], set[str]]]:
    """Each path the routers declare, as a request names it, with the methods its
    routes take and those a route refuses itself (with a 405 that says why, after
    the caller's credentials were checked)."""
    found: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for modules, prefix in ((API, "/api/v1"), (PAGES, "")):
        for module in modules:
            for route in module.router.routes:
                path = re.sub(r"{(\w+)(:\w+)?}", lambda m: VALUES[m.group(1)],
                              prefix + route.path)
                found[path][is_refusal(route.endpoint)].update(route.methods)
    return found


def allowed(answer) -> set[str]:
    return {m.strip() for m in answer.headers["allow"].split(",")}


def test_every_path_is_checked():
    assert len(resources()) > 60


@pytest.mark.parametrize("path, declared", sorted(resources().items()))
def test_a_405_names_every_method_the_resource_supports(api, path, declared):
    methods, refusals = declared
    answers = {method: api.request(method, path) for method in TRIED}
    refused = {m for m, answer in answers.items() if answer.status_code == 405}
    taken = set(TRIED) - refused - refusals

    assert refused and not refused & methods, (path, refused)
    for method in refused:
        # What the resource takes: what its routes declare, and any other method
        # that reaches a route there (a path another route's pattern also matches).
        assert allowed(answers[method]) == methods | taken, (method, path)


def test_the_workcontext_refuses_delete_naming_what_it_supports(api):
    did, holder = _holder(api, _skills(api))

    answer = api.delete(f"/api/v1/pods/{api.system.pods.pod_id(did)}/werkcontext",
                        headers=holder)

    assert answer.status_code == 405
    assert allowed(answer) == {"GET", "HEAD", "PUT", "PATCH"}
