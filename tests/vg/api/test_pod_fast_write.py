"""The hot Workcontext write answers what the route answers, stores exactly one
version per request, and leaves every request it refuses before storing, body
and all, to the route."""

from __future__ import annotations

import json

import pytest

from tests.vg.test_pod_api import LD, Holder
from vg.api.pod_fast_write import FastWorkcontextWrite

VARYING = {"date", "etag", "content-length"}


@pytest.fixture()
def answered(monkeypatch) -> list:
    """What the fast write answered itself (None: left to the route)."""
    seen: list = []
    original = FastWorkcontextWrite._answer

    async def spy(self, scope, pod_id, headers, body):
        seen.append(await original(self, scope, pod_id, headers, body))
        return seen[-1]

    monkeypatch.setattr(FastWorkcontextWrite, "_answer", spy)
    return seen


def versions(client, holder: Holder) -> int:
    listed = client.get(holder.base + "versies/", headers=holder.headers)
    return len(listed.json()["contains"])


def put(client, holder: Holder, document, headers: dict | None = None):
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return client.put(holder.base + "werkcontext", content=body,
                      headers={**holder.headers, **LD, **(headers or {})})


def same_refusal(pair, holder: Holder, document, headers: dict) -> None:
    """Both paths refuse alike and store nothing."""
    before = versions(pair[0], holder)
    fast, slow = (put(client, holder, document, headers) for client in pair)
    assert fast.status_code == slow.status_code >= 400
    assert fast.content == slow.content
    assert ({k: v for k, v in fast.headers.items() if k != "date"}
            == {k: v for k, v in slow.headers.items() if k != "date"})
    assert versions(pair[0], holder) == before


def test_the_fast_write_stores_one_version_and_answers_like_the_route(pair, answered):
    holder = Holder(pair[0])
    document = {**holder.document, "name": "Sanne de Vries"}
    before = versions(pair[0], holder)

    fast, slow = (put(client, holder, document) for client in pair)

    assert answered[-1] is not None
    assert fast.status_code == slow.status_code == 200
    assert fast.json()["version"] == before + 1
    assert slow.json() == {**fast.json(), "version": before + 2}
    assert ({k: v for k, v in fast.headers.items() if k not in VARYING}
            == {k: v for k, v in slow.headers.items() if k not in VARYING})
    assert fast.headers["etag"].startswith(f'"{before + 1}-')
    assert versions(pair[0], holder) == before + 2
    read = pair[0].get(holder.base + "versies/" + str(before + 1),
                       headers=holder.headers)
    assert read.json() == document


def test_a_write_with_the_current_etag_is_stored_by_the_fast_write(pair, answered):
    holder = Holder(pair[0])
    current = pair[0].get(holder.base + "werkcontext", headers=holder.headers)

    saved = put(pair[0], holder, holder.document,
                {"If-Match": current.headers["etag"]})

    assert saved.status_code == 200 and answered[-1] is not None
    stale = put(pair[0], holder, holder.document,
                {"If-Match": current.headers["etag"]})
    assert stale.status_code == 412


def test_a_stale_etag_is_refused_alike_and_stores_nothing(pair, answered):
    holder = Holder(pair[0])

    same_refusal(pair, holder, holder.document, {"If-Match": '"1-0000000000000000"'})
    assert answered[-1] is not None  # answered by the fast write, as the route would


@pytest.mark.parametrize("document, headers", [
    ({"type": "Person"}, {}),
    (b'{"name": "a", "name": "b"}', {}),
    (b"not json", {}),
    (None, {"Content-Type": "text/plain"}),
    (None, {"Authorization": "Bearer vgs_forged"}),
    (None, {"Authorization": "Basic eDp5"}),
    (None, {"If-None-Match": "*"}),
    (None, {"If-Match": "x" * 1001}),
])
def test_refusals_are_the_routes_own(pair, answered, document, headers):
    holder = Holder(pair[0])

    same_refusal(pair, holder, holder.document if document is None else document,
                 headers)
    assert all(answer is None for answer in answered)


def test_another_holders_session_finds_no_pod(pair, answered):
    holder, other = Holder(pair[0]), Holder(pair[0], hours=20)

    same_refusal(pair, holder, holder.document, other.headers)
    assert put(pair[0], holder, holder.document, other.headers).status_code == 404
    assert all(answer is None for answer in answered)


def test_a_signed_out_session_writes_nothing(pair, answered):
    holder = Holder(pair[0])
    assert pair[0].delete("/api/v1/sessies/huidige",
                          headers=holder.headers).status_code == 204

    fast, slow = (put(client, holder, holder.document) for client in pair)

    assert fast.status_code == slow.status_code == 401
    assert fast.content == slow.content
    assert all(answer is None for answer in answered)


def test_the_routed_write_walks_the_bounds_of_the_body_once(pair, monkeypatch):
    """The parser bounds the body as it reads it (parse_bounded); the checks
    after it do not walk the whole document for the same bounds again."""
    import schemas.workcontext

    holder = Holder(pair[0])
    walked: list[object] = []
    monkeypatch.setattr(schemas.workcontext, "check_bounds",
                        lambda document: walked.append(document))
    document = {**holder.document, "name": "Sanne de Vries"}

    for path in (holder.base + "werkcontext", "/api/v1/pod/werkcontext"):
        walked.clear()
        saved = pair[1].put(path, content=json.dumps(document).encode(),
                           headers={**holder.headers, **LD})
        assert saved.status_code == 200, saved.text
        assert walked == []


def test_a_body_over_the_cap_is_refused_alike_and_stores_nothing(pair, answered):
    holder = Holder(pair[0])
    oversized = json.dumps({**holder.document, "description": "x" * 300_000}).encode()

    same_refusal(pair, holder, oversized, {})
    assert all(answer is None for answer in answered)


def test_a_body_over_the_cap_that_declares_no_length_is_refused_alike(pair, answered):
    holder = Holder(pair[0])
    oversized = json.dumps({**holder.document, "description": "x" * 300_000}).encode()

    def pieces():
        for start in range(0, len(oversized), 65536):
            yield oversized[start:start + 65536]

    before = versions(pair[0], holder)
    fast, slow = (client.put(holder.base + "werkcontext", content=pieces(),
                             headers={**holder.headers, **LD}) for client in pair)
    assert fast.status_code == slow.status_code == 413
    assert fast.content == slow.content
    assert versions(pair[0], holder) == before


def test_a_content_type_sent_twice_is_refused_alike(pair, answered):
    holder = Holder(pair[0])
    body = json.dumps(holder.document).encode()
    headers = [(k, v) for k, v in {**holder.headers, **LD}.items()]
    headers.append(("Content-Type", "application/json"))

    before = versions(pair[0], holder)
    fast, slow = (client.put(holder.base + "werkcontext", content=body,
                             headers=headers) for client in pair)
    assert fast.status_code == slow.status_code == 400
    assert fast.content == slow.content
    assert versions(pair[0], holder) == before


def test_an_error_nobody_handled_is_the_applications_500(pair, monkeypatch):
    import vg.api.pod_fast_write as fast_write

    holder = Holder(pair[0])

    def broken(saved):
        raise RuntimeError("a fault in the answer")

    monkeypatch.setattr(fast_write, "_saved_answer", broken)
    answer = pair[0].put(holder.base + "werkcontext",
                         content=json.dumps(holder.document).encode(),
                         headers={**holder.headers, **LD})

    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "internal-error"
    assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("not_published", [(), ({"grant": "urn:uuid:1",
                                                  "reason": "registry-unavailable"},)])
def test_the_fast_answer_to_a_save_is_the_routes_response_message_for_message(
        not_published):
    import asyncio

    from vg.api.pod_fast_write import _saved_answer
    from vg.api.pod_resources import saved_response
    from vg.holder_flows import Saved

    saved = Saved(12, 1, '"12-0123456789abcdef"', not_published)

    def messages(answer) -> list:
        sent: list = []

        async def send(message):
            sent.append(message)

        asyncio.run(answer({"type": "http", "method": "PUT"}, None, send))
        return sent

    assert messages(_saved_answer(saved)) == messages(saved_response(saved))
