"""Preconditions on the pod's resources (RFC 9110 13.1): every read honours
If-Match as the writes do, a merge patch that changes nothing stores nothing, and a
header that is too long is an input problem, not a document problem."""

from __future__ import annotations

import json

import pytest
from fastapi.routing import APIRoute

from tests.vg.test_pod_api import LD, _deliver_rating, api, holder  # noqa: F401
from vg.api import pod_resources

MERGE = {"Content-Type": "application/merge-patch+json"}
# Every resource the pod serves by GET, as its route's path and one real address
# (relative to the pod); a new read route must be added here to be tested.
READS = {
    "/pods/{pod_id}/": "",
    "/pods/{pod_id}/werkcontext": "werkcontext",
    "/pods/{pod_id}/versies/": "versies/",
    "/pods/{pod_id}/versies/{number}": "versies/1",
    "/pods/{pod_id}/bestanden/": "bestanden/",
    "/pods/{pod_id}/bestanden/{name}": "bestanden/intro.mp4",
    "/pods/{pod_id}/postvak/": "postvak/",
    "/pods/{pod_id}/postvak/{message_id}": "postvak/{message}",
}


def read_routes(method: str = "GET") -> set[str]:
    return {r.path for r in pod_resources.router.routes
            if isinstance(r, APIRoute) and method in r.methods}


def with_every_resource(api, holder) -> dict[str, str]:  # noqa: F811
    api.put(holder.base + "bestanden/intro.mp4", content=b"video",
            headers={**holder.headers, "Content-Type": "video/mp4"})
    _deliver_rating(api, holder, b"rating: 5")
    [message] = api.get(holder.base + "postvak/", headers=holder.headers).json()
    return {path: holder.base + where.format(message=message["id"])
            for path, where in READS.items()}


def test_every_read_route_of_the_pod_is_covered_here():
    assert read_routes() == set(READS)


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_read_with_an_if_match_no_current_tag_matches_is_refused(
        api, holder, method):  # noqa: F811
    for path, url in with_every_resource(api, holder).items():
        if path not in read_routes(method):
            continue
        plain = api.request(method, url, headers=holder.headers)
        refused = api.request(method, url, headers={**holder.headers,
                                                    "If-Match": '"nope"'})
        star = api.request(method, url, headers={**holder.headers, "If-Match": "*"})

        assert plain.status_code == 200, path
        assert refused.status_code == 412, path
        assert star.status_code == 200, path


def test_a_read_with_its_current_etag_in_if_match_is_answered(api, holder):  # noqa: F811
    url = holder.base + "werkcontext"
    etag = api.get(url, headers=holder.headers).headers["etag"]

    strong = api.get(url, headers={**holder.headers, "If-Match": f'"x", {etag}'})
    weak = api.get(url, headers={**holder.headers, "If-Match": f"W/{etag}"})

    assert strong.status_code == 200 and strong.json()["name"] == "Sanne de Boer"
    assert weak.status_code == 412
    assert weak.json()["code"] == "precondition-failed"


def test_if_match_is_judged_before_if_none_match(api, holder):  # noqa: F811
    url = holder.base + "werkcontext"
    etag = api.get(url, headers=holder.headers).headers["etag"]

    answer = api.get(url, headers={**holder.headers, "If-Match": '"other"',
                                   "If-None-Match": etag})

    assert answer.status_code == 412


def test_a_missing_resource_is_not_found_whatever_if_match_says(api, holder):  # noqa: F811
    answer = api.get(holder.base + "versies/9", headers={**holder.headers,
                                                          "If-Match": '"nope"'})

    assert answer.status_code == 404


@pytest.mark.parametrize("patch", [{}, {"name": "Sanne de Boer"},
                                   {"availability": {"hoursPerWeek": 16}}])
def test_a_merge_patch_that_changes_nothing_stores_nothing(api, holder, patch):  # noqa: F811,E501
    url = holder.base + "werkcontext"
    before = api.get(url, headers=holder.headers)
    versions = api.get(holder.base + "versies/", headers=holder.headers).json()

    answer = api.patch(url, headers={**holder.headers, **MERGE},
                       content=json.dumps(patch))

    assert answer.status_code == 200, answer.text
    assert answer.json() == {"version": 1, "published": 0, "notPublished": []}
    assert answer.headers["etag"] == before.headers["etag"]
    assert api.get(holder.base + "versies/", headers=holder.headers).json() == versions


def test_a_merge_patch_that_changes_nothing_still_needs_a_current_if_match(
        api, holder):  # noqa: F811
    answer = api.patch(holder.base + "werkcontext", headers={
        **holder.headers, **MERGE, "If-Match": '"1-0000000000000000"'}, content="{}")

    assert answer.status_code == 412


def test_a_merge_patch_to_an_equal_but_differently_typed_value_is_a_change(
        api, holder):  # noqa: F811
    answer = api.patch(holder.base + "werkcontext", headers={**holder.headers, **MERGE},
                       content=json.dumps({"availability": {"hoursPerWeek": 16.0}}))

    assert answer.status_code != 200 or answer.json()["version"] == 2


def test_a_put_of_the_same_document_stores_a_version_that_republishes(
        api, holder):  # noqa: F811
    answer = api.put(holder.base + "werkcontext", headers={**holder.headers, **LD},
                     content=json.dumps(holder.document))

    assert answer.status_code == 200 and answer.json()["version"] == 2


@pytest.mark.parametrize("header", ["If-Match", "If-None-Match", "Accept"])
def test_a_too_long_header_is_an_input_problem_naming_the_header(
        api, holder, header):  # noqa: F811
    answer = api.get(holder.base + "werkcontext",
                     headers={**holder.headers, header: '"x", ' * 1000})

    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid-input"
    assert header.lower() in answer.json()["detail"]


# -- If-Match on the short address and on writes without an entity tag --------------
SHORT = "/api/v1/pod/werkcontext"


def test_the_short_address_refuses_a_put_under_a_stale_if_match(api, holder):  # noqa: F811,E501
    read = api.get(SHORT, headers=holder.headers)
    etag = read.headers["etag"]
    body = json.dumps(dict(holder.document, name="Nieuwe Naam"))

    stale = api.put(SHORT, content=body, headers={
        **holder.headers, **LD, "If-Match": '"1-0000000000000000"'})
    current = api.put(SHORT, content=body, headers={
        **holder.headers, **LD, "If-Match": etag})
    again = api.put(SHORT, content=body, headers={
        **holder.headers, **LD, "If-Match": etag})

    assert stale.status_code == 412 and stale.json()["code"] == "precondition-failed"
    assert current.status_code == 200 and current.json()["version"] == 2
    assert current.headers["etag"] != etag
    assert again.status_code == 412
    assert len(api.get(SHORT + "/versies", headers=holder.headers).json()) == 2


def test_the_short_address_honours_if_none_match_as_the_pod_address_does(
        api, holder):  # noqa: F811
    answer = api.put(SHORT, content=json.dumps(holder.document),
                     headers={**holder.headers, **LD, "If-None-Match": "*"})

    assert answer.status_code == 412
    assert len(api.get(SHORT + "/versies", headers=holder.headers).json()) == 1


def test_a_write_to_a_resource_without_an_etag_refuses_if_match(api, holder):  # noqa: F811,E501
    body = {"frequency": "daily", "minScore": 10}
    refused = api.put("/api/v1/pod/meldingen/instellingen", json=body,
                      headers={**holder.headers, "If-Match": '"x"'})

    assert refused.status_code == 400
    assert "if-match" in refused.json()["detail"]
    assert api.put("/api/v1/pod/meldingen/instellingen", json=body,
                   headers=holder.headers).status_code == 200


def test_every_write_route_of_the_api_evaluates_or_refuses_if_match(api):  # noqa: F811
    from vg.api.preconditions import WRITES, evaluates_if_match

    unguarded = []
    for route in api.app.routes:
        if not isinstance(route, APIRoute) or not route.path.startswith("/api/"):
            continue
        if not (route.methods & WRITES) or evaluates_if_match(route.endpoint):
            continue
        guards = {d.call.__name__ for d in route.dependant.dependencies}
        if "if_match_evaluated" not in guards:
            unguarded.append(route.path)

    assert unguarded == []


def test_a_message_is_deleted_under_if_match_star_only(api, holder):  # noqa: F811
    _deliver_rating(api, holder, b"rating: 4")
    [message] = api.get(holder.base + "postvak/", headers=holder.headers).json()
    url = holder.base + "postvak/" + message["id"]

    refused = api.delete(url, headers={**holder.headers, "If-Match": '"x"'})
    deleted = api.delete(url, headers={**holder.headers, "If-Match": "*"})

    assert refused.status_code == 412
    assert deleted.status_code == 204
