"""A JSON body is taken as sent: a value of the wrong JSON type (a string for a
number, a number for a string, a string for a boolean) is refused as
``invalid-input`` naming the field, never converted."""

from __future__ import annotations

import typing
from datetime import datetime, timezone

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel

from vg.api.models import Strict
from vg.app import create_app
from vg.settings import Settings


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("strict"),
                               kdf_level="interactive"))


def _models_in(annotation, found: set) -> set:
    """Every pydantic model an annotation names, nested ones included."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in found:
            found.add(annotation)
            for field in annotation.model_fields.values():
                _models_in(field.annotation, found)
        return found
    for argument in typing.get_args(annotation):
        _models_in(argument, found)
    return found


def _routes(routes) -> list:
    """Every route with a dependant, also those of included routers."""
    found = []
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if callable(contexts):
            found += list(contexts())
        elif getattr(route, "routes", None):
            found += _routes(route.routes)
        elif isinstance(route, APIRoute):
            found.append(route)
    return found


def _request_models(app) -> dict[type, str]:
    models = {}
    for route in _routes(app.routes):
        for param in route.dependant.body_params:
            for model in _models_in(param.field_info.annotation, set()):
                models[model] = f"{sorted(route.methods)} {route.path}"
    return models


def test_every_request_body_model_of_the_app_is_strict(app):
    models = _request_models(app)

    lax = [f"{model.__name__} ({where})" for model, where in models.items()
           if not issubclass(model, Strict) or not model.model_config.get("strict")]

    assert len(models) >= 15  # the walk found the bodies
    assert lax == []


def test_the_walk_finds_a_lax_model_nested_in_a_strict_one():
    class Lax(BaseModel):
        number: int

    class Outer(Strict):
        inner: list[Lax] | None = None

    assert Lax in _models_in(Outer, set())


@pytest.mark.parametrize("path, body, field", [
    ("/api/v1/pods", {"passphrase": 12345678}, "passphrase"),
    ("/api/v1/sessies", {"did": "did:key:z6Mkexample", "passphrase": 1}, "passphrase"),
])
def test_a_number_for_a_string_is_refused_naming_the_field(app, path, body, field):
    answer = TestClient(app).post(path, json=body)

    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalid-input"
    assert field in answer.json()["detail"]


def _holder(client) -> dict:
    created = client.post("/api/v1/pods", json={"passphrase": "een lange wachtzin 42"})
    assert created.status_code == 201, created.text
    return {"Authorization": f"Bearer {created.json()['session']}"}


@pytest.mark.parametrize("body, field", [
    ({"frequency": "daily", "minScore": "50"}, "minScore"),
    ({"frequency": "daily", "minScore": True}, "minScore"),
])
def test_a_string_or_boolean_for_an_integer_is_refused(app, body, field):
    client = TestClient(app)
    headers = _holder(client)

    answer = client.put("/api/v1/pod/meldingen/instellingen", json=body,
                        headers=headers)

    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalid-input"
    assert field in answer.json()["detail"]


@pytest.mark.parametrize("extra, field", [
    ({"remote": "true"}, "remote"),
    ({"remote": 1}, "remote"),
    ({"levelMin": "2"}, "levelMin"),
    ({"title": 7}, "title"),
    ({"periodStart": 1767225600}, "periodStart"),
])
def test_an_assignment_with_a_wrong_json_type_is_refused(app, extra, field):
    client = TestClient(app)
    system = app.state.system
    key = system.registry.access.issue_key("GM0344", "staff", "test", _now())
    skills = sorted(system.reference.skills)[:1]
    body = {"title": "Omgevingswet invoeren", "requiredSkills": skills, **extra}

    answer = client.post("/api/v1/opdrachten", json=body,
                         headers={"Authorization": f"Bearer {key}"})

    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalid-input"
    assert field in answer.json()["detail"]


def test_a_grant_with_a_number_for_its_end_is_refused(app):
    client = TestClient(app)
    headers = _holder(client)
    body = {"audience": {"kind": "all_municipalities"}, "purposes": ["matching"],
            "fields": ["skills"], "validUntil": 1893456000}

    answer = client.post("/api/v1/pod/toestemmingen", json=body, headers=headers)

    assert answer.status_code == 400, answer.text
    assert "validUntil" in answer.json()["detail"]


def test_well_typed_bodies_are_still_taken(app):
    client = TestClient(app)
    headers = _holder(client)

    answer = client.put("/api/v1/pod/meldingen/instellingen", headers=headers,
                        json={"frequency": "daily", "minScore": 50})

    assert answer.status_code in (200, 204), answer.text


def _now() -> datetime:
    return datetime.now(timezone.utc)


@pytest.mark.parametrize("start, end, field", [
    ("0001-01-01", "2027-01-01", "periodStart"),
    ("2027-01-01", "9999-12-31", "periodEnd"),
])
def test_an_assignment_period_outside_2000_to_2099_is_refused(app, start, end, field):
    client = TestClient(app)
    system = app.state.system
    key = system.registry.access.issue_key("GM0344", "staff", "test", _now())
    body = {"title": "Omgevingswet invoeren", "periodStart": start, "periodEnd": end,
            "requiredSkills": sorted(system.reference.skills)[:1]}

    answer = client.post("/api/v1/opdrachten", json=body,
                         headers={"Authorization": f"Bearer {key}"})

    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalid-input"
    assert field in answer.json()["detail"] and "2000-01-01" in answer.json()["detail"]


def test_a_grant_starting_in_year_one_is_refused(app):
    client = TestClient(app)
    headers = _holder(client)
    body = {"audience": {"kind": "all_municipalities"}, "purposes": ["matching"],
            "fields": ["skills"], "validFrom": "0001-01-01T00:00:00Z",
            "validUntil": "0002-01-01T00:00:00Z"}

    answer = client.post("/api/v1/pod/toestemmingen", json=body, headers=headers)

    assert answer.status_code == 400, answer.text
    assert answer.json()["code"] == "invalid-input"
    assert "validFrom" in answer.json()["detail"]
