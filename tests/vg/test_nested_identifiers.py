"""A nested node of the Workcontext carries no identifier: an IRI there would reach
every organisation shown the field that holds the node."""

from __future__ import annotations

import json

import pytest

from tests.vg.test_pod_api import LD, PROBLEM, api, holder  # noqa: F401


@pytest.mark.parametrize("identifier",
                         ["{did}", "{did}#level", "https://example.org/x"])
def test_a_nested_node_can_not_carry_an_identifier(api, holder, identifier):
    before = api.get(holder.base + "versies/", headers=holder.headers).json()
    document = dict(holder.document)
    document["functionLevel"] = {"type": "FunctionLevel", "levelSystem": "HR21",
                                 "levelName": "adviseur III", "levelRank": 3,
                                 "id": identifier.format(did=holder.did)}

    response = api.put("/api/v1/pod/werkcontext", content=json.dumps(document),
                       headers={**holder.headers, **LD})

    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    assert "functionLevel.id" in response.text
    assert api.get(holder.base + "versies/", headers=holder.headers).json() == before
