"""Disclosures come from any pod, on this server or another (DESIGN.md), signed
by the holder's did:key. A did:key costs nothing to make, so what one client may
deliver for holders the registry never saw needs a bound of its own, as creating
a pod here has (a key derivation, two at a time per client address)."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from consent import Audience, HolderKey, make_disclosure
from consent.grant import new_grant
from schemas import WORKCONTEXT_CONTEXT_URL
from tests.vg.test_api import LD_JSON, NOW, _skills, api  # noqa: F401 (fixture)

FLOOD = 100


def invented(skills: list[str]) -> str:
    """A disclosure of a person no pod holds: a fresh key signs it all."""
    key = HolderKey(os.urandom(32))
    grant = new_grant(key.did, Audience("all_municipalities"), ["matching"],
                      ["name", "skills"], NOW + timedelta(days=30), NOW)
    workcontext = {"@context": WORKCONTEXT_CONTEXT_URL, "id": key.did,
                   "type": "Person", "name": "Verzonnen Persoon", "skills": skills}
    return json.dumps(make_disclosure(workcontext, grant.signed_by(key), 1, key, NOW))


@pytest.mark.xfail(strict=True, reason="POST /openbaarmakingen takes any number "
                   "of new holders from one client, unauthenticated")
def test_one_client_can_not_fill_the_registry_with_invented_holders(api):  # noqa: F811
    skills = _skills(api)
    flood = TestClient(api.app, client=("10.0.0.99", 4000))

    statuses = [flood.post("/api/v1/openbaarmakingen", content=invented(skills),
                           headers={"Content-Type": LD_JSON}).status_code
                for _ in range(FLOOD)]

    assert 429 in statuses
