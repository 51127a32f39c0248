"""Disclosures come from any pod, on this server or another (DESIGN.md), signed
by the holder's did:key. A did:key costs nothing to make, so what one client may
deliver for holders the registry never saw needs a bound of its own, as creating
a pod here has (a key derivation, two at a time per client address)."""

from __future__ import annotations

import json
import os
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select
from sqlmodel import SQLModel

from consent import Audience, HolderKey, make_disclosure, make_withdrawal
from consent.grant import new_grant
from schemas import WORKCONTEXT_CONTEXT_URL
from tests.vg.test_api import LD_JSON, NOW, _skills, api  # noqa: F401 (fixture)
from tests.vg.web.test_web_pages import PASSPHRASE, csrf
from vg.app import create_app
from vg.settings import Settings

FLOOD = 100


def invented(skills: list[str]) -> str:
    """A disclosure of a person no pod holds: a fresh key signs it all."""
    key = HolderKey(os.urandom(32))
    grant = new_grant(key.did, Audience("all_municipalities"), ["matching"],
                      ["name", "skills"], NOW + timedelta(days=30), NOW)
    workcontext = {"@context": WORKCONTEXT_CONTEXT_URL, "id": key.did,
                   "type": "Person", "name": "Verzonnen Persoon", "skills": skills}
    return json.dumps(make_disclosure(workcontext, grant.signed_by(key), 1, key, NOW))


def test_one_client_can_not_fill_the_registry_with_invented_holders(api):  # noqa: F811
    skills = _skills(api)
    flood = TestClient(api.app, client=("10.0.0.99", 4000))

    statuses = [flood.post("/api/v1/openbaarmakingen", content=invented(skills),
                           headers={"Content-Type": LD_JSON}).status_code
                for _ in range(FLOOD)]

    assert 429 in statuses


FREE = 3


@pytest.fixture()
def small(tmp_path):
    """A server whose clients may each create ``FREE`` things without credentials."""
    settings = Settings(data_dir=tmp_path, kdf_level="interactive",
                        creations_free=FREE, creations_longest_seconds=60)
    app = create_app(settings, clock=lambda: NOW)
    return app


def client(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 4000))


def deliver(client: TestClient, document: str):
    return client.post("/api/v1/openbaarmakingen", content=document,
                       headers={"Content-Type": LD_JSON})


def withdraw(client: TestClient, document: dict):
    return client.post("/api/v1/intrekkingen", content=json.dumps(document),
                       headers={"Content-Type": LD_JSON})


def rows(app) -> dict[str, int]:
    """How many rows each table of the registry holds."""
    engine = app.state.system.registry.engine
    with engine.connect() as conn:
        return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in SQLModel.metadata.tables.items()
                if inspect(engine).has_table(name)}


def test_a_client_under_the_bound_delivers_every_new_holder(small):
    skills = sorted(small.state.system.reference.skills)[:3]
    one = client(small, "10.0.0.1")

    statuses = [deliver(one, invented(skills)).status_code for _ in range(FREE + 1)]

    assert statuses == [201] * (FREE + 1)  # the one after the free ones waits next
    assert rows(small)["holder"] == FREE + 1


def test_a_client_over_the_bound_is_refused_429_and_nothing_is_written(small):
    skills = sorted(small.state.system.reference.skills)[:3]
    one = client(small, "10.0.0.1")
    for _ in range(FREE + 1):
        assert deliver(one, invented(skills)).status_code == 201
    before = rows(small)

    refused = deliver(one, invented(skills))

    assert refused.status_code == 429
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "too-many-created"
    assert int(refused.headers["Retry-After"]) >= 1
    assert rows(small) == before


def test_the_bound_of_one_client_leaves_another_client_alone(small):
    skills = sorted(small.state.system.reference.skills)[:3]
    one, other = client(small, "10.0.0.1"), client(small, "10.0.0.2")
    for _ in range(FREE + 1):
        deliver(one, invented(skills))
    assert deliver(one, invented(skills)).status_code == 429

    assert deliver(other, invented(skills)).status_code == 201


def test_a_new_disclosure_of_a_grant_the_registry_holds_is_not_counted(small):
    skills = sorted(small.state.system.reference.skills)[:3]
    one = client(small, "10.0.0.1")
    key = HolderKey(os.urandom(32))
    grant = new_grant(key.did, Audience("all_municipalities"), ["matching"],
                      ["name", "skills"], NOW + timedelta(days=30), NOW)
    signed = grant.signed_by(key)
    workcontext = {"@context": WORKCONTEXT_CONTEXT_URL, "id": key.did,
                   "type": "Person", "name": "Echte Persoon", "skills": skills}

    statuses = [deliver(one, json.dumps(make_disclosure(workcontext, signed, n,
                                                        key, NOW))).status_code
                for n in range(1, 2 * FREE + 2)]

    assert statuses == [201] * (2 * FREE + 1)
    assert deliver(one, invented(skills)).status_code == 201


def test_a_withdrawal_of_an_unknown_grant_adds_no_holder_and_counts(small):
    one = client(small, "10.0.0.1")
    before = rows(small)

    statuses = [withdraw(one, make_withdrawal(f"urn:uuid:{uuid.uuid4()}", 1,
                                              HolderKey(os.urandom(32)), NOW)
                         ).status_code for _ in range(FREE + 2)]

    assert statuses == [200] * (FREE + 1) + [429]
    after = rows(small)
    assert after["holder"] == before["holder"]
    assert after["withdrawn_grant"] == before["withdrawn_grant"] + FREE + 1


def test_creating_pods_counts_against_the_same_bound(small):
    one, other = client(small, "10.0.0.1"), client(small, "10.0.0.2")
    body = {"passphrase": "een lange wachtzin 42"}

    statuses = [one.post("/api/v1/pods", json=body).status_code
                for _ in range(FREE + 2)]

    assert statuses == [201] * (FREE + 1) + [429]
    assert other.post("/api/v1/pods", json=body).status_code == 201


def test_the_sign_up_page_counts_against_the_bound_and_says_so_in_dutch(small):
    page = TestClient(small, base_url="https://testserver", follow_redirects=False,
                      client=("10.0.0.3", 4000))
    token = csrf(page.get("/inloggen"))
    form = {"csrf": token, "wachtzin": PASSPHRASE, "herhaling": PASSPHRASE}

    statuses = [page.post("/pod-aanmaken", data=form).status_code
                for _ in range(FREE + 2)]

    assert statuses == [303] * (FREE + 1) + [429]
    refused = page.post("/pod-aanmaken", data=form)
    assert refused.headers["Retry-After"]
    assert "Vanaf jouw adres is te veel aangemaakt" in refused.text
