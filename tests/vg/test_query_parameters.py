"""Every route under /api/v1 refuses a query parameter it does not take, or one it
takes once given twice, as 400 ``invalid-input`` naming what it takes; also the
pod's resources, their fast paths and the OpenAPI document."""

from __future__ import annotations

import json

import pytest
from fastapi.routing import APIRoute

from tests.vg.test_pod_api import LD, PROBLEM, api, holder  # noqa: F401
from vg.api.bounded_json import QueryCheckedRoute


@pytest.mark.parametrize("method, suffix", [
    ("GET", "werkcontext?x=1"),
    ("GET", "werkcontext?x=1&x=2"),
    ("GET", "werkcontext?format=turtle"),
    ("GET", "versies/?x=1"),
    ("GET", "postvak/?x=1"),
    ("GET", "bestanden/?x=1"),
    ("HEAD", "werkcontext?x=1"),
])
def test_a_query_parameter_a_pod_resource_does_not_take_is_refused(
        api, holder, method, suffix):
    response = api.request(method, holder.base + suffix, headers=holder.headers)

    assert response.status_code == 400
    if method == "GET":
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["code"] == "invalid-input"
        assert "this route takes: none" in response.text


@pytest.mark.parametrize("method, media_type, body", [
    ("PUT", LD["Content-Type"], None),
    ("PATCH", "application/merge-patch+json", b'{"name": "X"}'),
])
def test_a_write_with_an_unknown_query_parameter_changes_nothing(
        api, holder, method, media_type, body):
    before = api.get(holder.base + "versies/", headers=holder.headers).json()
    if body is None:
        body = json.dumps({**holder.document, "name": "X"}).encode()

    response = api.request(method, holder.base + "werkcontext?x=1", content=body,
                           headers={**holder.headers, "Content-Type": media_type})

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert api.get(holder.base + "versies/", headers=holder.headers).json() == before


def test_the_openapi_document_takes_no_query_parameter(api):
    assert api.get("/api/v1/openapi.json").status_code == 200

    response = api.get("/api/v1/openapi.json?x=1")

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


def test_every_api_route_checks_its_query_parameters(api):
    unchecked = [route.path for route in api.app.routes
                 if isinstance(route, APIRoute) and route.path.startswith("/api/v1")
                 and not isinstance(route, QueryCheckedRoute)]

    assert unchecked == []


@pytest.mark.parametrize("path", [
    "/api/v1/teams?zoek=a%E2%80%AEb",
    "/api/v1/groepen?cursor=ab%07c",
    "/api/v1/pod/teams/wijkteam?organisatie=GM%E2%81%A60344",
])
def test_a_query_value_with_a_control_or_direction_character_is_refused(
        api, holder, path):
    """Every query parameter of the API holds to the rule of every text in a
    body (``schemas.holds_forbidden_characters``), before the route runs."""
    response = api.get(path, headers=holder.headers)

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "invalid-input"
    assert "must not hold control characters" in response.json()["detail"]
