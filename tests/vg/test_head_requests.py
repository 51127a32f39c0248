"""HEAD is answered as GET without content (RFC 9110 9.3.2) on every route that
takes GET, the API's and the pages' alike, for every kind of caller: the same
status and headers, Content-Length that of the GET's content, and no content."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.factories import NOW, UTRECHT
from tests.test_docs import _route_paths
from tests.vg.test_allowed_methods import VALUES
from tests.vg.test_api import _assignment, _grant, _holder, _key, _skills
from tests.vg.web.test_web_pages import browser, signed_in_holder
from tests.vg.web.test_web_pages import signed_in_organisation
from vg.app import create_app
from vg.settings import Settings


@pytest.fixture()
def world(tmp_path):
    """An application with a holder (a Workcontext, a grant, a file), an
    organisation with an assignment, and a client for each kind of caller."""
    app = create_app(Settings(data_dir=tmp_path, kdf_level="interactive"),
                     clock=lambda: NOW)
    api = browser(app)
    api.system = app.state.system
    skills = _skills(api)
    did, holder = _holder(api, skills)
    holder = {"Authorization": holder["Authorization"]}
    grant = _grant(api, {**holder, "Content-Type": "application/json"},
                   ["skills", "level"])
    pod_id = api.system.pods.pod_id(did)
    stored = api.put(f"/api/v1/pods/{pod_id}/bestanden/intro.mp4", content=b"x" * 100,
                     headers={**holder, "Content-Type": "video/mp4"})
    assert stored.status_code == 201, stored.text
    staff = _key(api, UTRECHT)
    assignment = _assignment(api, staff, skills)
    values = {**VALUES, "pod_id": pod_id, "name": "intro.mp4",
              "grant_ref": grant.removeprefix("urn:uuid:"),
              "assignment_id": str(assignment)}
    callers = {
        "nobody": (browser(app), {}),
        "holder": (api, holder),
        "staff": (api, staff),
        "dpo": (api, _key(api, UTRECHT, "dpo")),
        "platform dpo": (api, _key(api, UTRECHT, "platform-dpo")),
        "holder's browser": (signed_in_holder(app)[0], {}),
        "staff's browser": (signed_in_organisation(app), {}),
        "dpo's browser": (signed_in_organisation(app, "dpo"), {}),
    }
    return app, values, callers


def get_paths(app, values: dict[str, str]) -> list[str]:
    """Every route of the application that takes GET, as a request names it."""
    return sorted({re.sub(r"{(\w+)(:\w+)?}", lambda m: values[m.group(1)], path)
                   for path, methods in _route_paths(app.routes) if "GET" in methods})


def request(client: TestClient, method: str, path: str, headers: dict):
    """One request with the client's cookies as they were before it: a page
    that sets a cookie must not change what the next request sends."""
    cookies = list(client.cookies.jar)
    try:
        return client.request(method, path, headers=headers)
    finally:
        client.cookies.jar.clear()
        for cookie in cookies:
            client.cookies.jar.set_cookie(cookie)


def differences(got, head) -> list[str]:
    """How ``head`` differs from a HEAD answer to the request ``got`` answered."""
    found = []
    if head.status_code != got.status_code:
        found.append(f"status {head.status_code}, GET {got.status_code}")
    if head.content:
        found.append(f"{len(head.content)} bytes of content")
    # A HEAD that would be shown personal data is answered before the content is
    # made: without Content-Length, which would tell the data's size, or a header
    # the page sets while making it (RFC 9110 9.3.2 lets a HEAD omit both).
    if "content-length" in head.headers:
        if _headers(head) != _headers(got):
            found.append(f"headers {_headers(head)} against GET's {_headers(got)}")
    elif not set(_headers(head)) <= set(_headers(got)):
        found.append(f"headers {_headers(head)} beyond GET's {_headers(got)}")
    length = head.headers.get("content-length")
    if length is not None and length != str(len(got.content)):
        found.append(f"Content-Length {length}, GET's content {len(got.content)}")
    return found


def _headers(response) -> list[tuple[str, str]]:
    """The headers, with only the name of each cookie set: a fresh CSRF seed is
    random on every answer."""
    return sorted((name, value.split("=", 1)[0] if name == "set-cookie" else value)
                  for name, value in response.headers.multi_items())


def test_every_get_route_answers_head_as_get_without_content(world):
    app, values, callers = world
    paths = get_paths(app, values)
    wrong = {}

    for caller, (client, headers) in callers.items():
        for path in paths:
            got = request(client, "GET", path, headers)
            head = request(client, "HEAD", path, headers)
            if found := differences(got, head):
                wrong[caller, path] = found

    assert len(paths) > 60
    assert wrong == {}


def test_a_405_names_head_wherever_it_names_get(world):
    app, values, callers = world
    client, headers = callers["holder"]

    answer = client.delete("/api/v1/pod/toestemmingen", headers=headers)
    page = callers["nobody"][0].put("/inloggen")

    assert answer.status_code == page.status_code == 405
    assert answer.headers["allow"] == "GET, HEAD, POST"
    assert page.headers["allow"] == "GET, HEAD, POST"


def test_head_on_a_candidate_list_discloses_and_logs_nothing(world):
    app, values, callers = world
    api, staff = callers["staff"]
    path = f"/api/v1/opdrachten/{values['assignment_id']}/kandidaten"
    system = app.state.system
    logged = len(system.audit.entries(limit=1000))

    head = request(api, "HEAD", path, staff)

    assert head.status_code == 200 and not head.content
    assert "content-length" not in head.headers  # it would tell the data's size
    assert head.headers["content-type"].startswith("application/json")
    assert len(system.audit.entries(limit=1000)) == logged
    got = request(api, "GET", path, staff)
    assert got.json()["total"] == 1
    assert len(system.audit.entries(limit=1000)) > logged


def test_head_on_a_candidate_page_discloses_and_logs_nothing(world):
    app, values, callers = world
    browser_, _ = callers["staff's browser"]
    path = f"/organisatie/opdrachten/{values['assignment_id']}"
    system = app.state.system
    logged = len(system.audit.entries(limit=1000))

    head = request(browser_, "HEAD", path, {})

    assert head.status_code == 200 and not head.content
    assert len(system.audit.entries(limit=1000)) == logged


def test_head_on_another_organisations_candidates_is_refused_as_get_is(world):
    app, values, callers = world
    api, _ = callers["staff"]
    other = _key(api, "GM0014")
    path = f"/api/v1/opdrachten/{values['assignment_id']}/kandidaten"

    assert request(api, "HEAD", path, other).status_code == request(
        api, "GET", path, other).status_code == 404
