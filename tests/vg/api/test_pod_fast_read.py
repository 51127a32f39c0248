"""The hot Workcontext read answers exactly what the route answers, and leaves every
request it does not fully handle (refusals included) to the route."""

from __future__ import annotations

import pytest

from tests.vg.test_pod_api import Holder
from vg.api.pod_fast_read import FastWorkcontextRead


@pytest.fixture()
def answered(monkeypatch) -> list:
    """What the fast read answered itself (None: left to the route)."""
    seen: list = []
    original = FastWorkcontextRead._answer

    def spy(self, scope, pod_id):
        seen.append(original(self, scope, pod_id))
        return seen[-1]

    monkeypatch.setattr(FastWorkcontextRead, "_answer", spy)
    return seen


def same(pair, path: str, headers: dict) -> None:
    fast, slow = (client.get(path, headers=headers) for client in pair)
    assert fast.status_code == slow.status_code
    assert fast.content == slow.content
    drop = {"date"}
    assert ({k: v for k, v in fast.headers.items() if k not in drop}
            == {k: v for k, v in slow.headers.items() if k not in drop})


@pytest.mark.parametrize("accept", [None, "application/ld+json", "application/json",
                                    "*/*", "text/turtle", "image/png"])
def test_the_fast_read_answers_like_the_route(pair, answered, accept):
    holder = Holder(pair[0])
    headers = {**holder.headers, **({"Accept": accept} if accept else {})}

    same(pair, holder.base + "werkcontext", headers)
    handled = accept not in ("text/turtle", "image/png")
    assert (answered[-1] is not None) == handled


def test_refusals_are_the_routes_own(pair, answered):
    holder, other = Holder(pair[0]), Holder(pair[0], hours=20)
    path = holder.base + "werkcontext"

    same(pair, path, {})
    same(pair, path, {"Authorization": "Bearer vgs_forged"})
    same(pair, path, other.headers)
    same(pair, holder.base.upper().replace("/API/V1/PODS/", "/api/v1/pods/")
         + "werkcontext", holder.headers)
    assert pair[0].get(path, headers=other.headers).status_code == 404
    forged = pair[0].get(path, headers={"Authorization": "Bearer vgs_x"})
    assert forged.status_code == 401
    assert answered and all(answer is None for answer in answered)


def test_a_pod_without_a_workcontext_is_left_to_the_route(pair):
    created = pair[0].post("/api/v1/pods", json={"passphrase": "een lange wachtzin 42"})
    session = created.json()["session"]
    base = f"/api/v1/pods/{pair[0].system.pods.pod_id(created.json()['did'])}/"

    same(pair, base + "werkcontext", {"Authorization": f"Bearer {session}"})
    assert pair[0].get(base + "werkcontext", headers={
        "Authorization": f"Bearer {session}"}).status_code == 404


def test_a_header_sent_twice_is_refused_alike(pair, answered):
    holder = Holder(pair[0])
    headers = [*holder.headers.items(), ("Content-Type", "application/json"),
               ("Content-Type", "text/plain")]

    fast, slow = (client.get(holder.base + "werkcontext", headers=headers)
                  for client in pair)

    assert fast.status_code == slow.status_code == 400
    assert fast.content == slow.content
    assert answered == []


def test_an_error_the_fast_read_meets_is_met_again_by_the_route(pair, monkeypatch):
    holder = Holder(pair[0])

    def broken(self, scope, pod_id):
        raise RuntimeError("a fault in the fast read")

    monkeypatch.setattr(FastWorkcontextRead, "_answer", broken)
    read = pair[0].get(holder.base + "werkcontext", headers=holder.headers)

    assert read.status_code == 200
    assert read.json() == holder.document
    assert read.headers["x-content-type-options"] == "nosniff"
