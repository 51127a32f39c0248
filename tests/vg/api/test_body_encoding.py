"""A JSON body is UTF-8 without a byte order mark (RFC 8259 section 8.1): a body
in UTF-16 or UTF-32, or with a mark, is refused as 400, and a declared charset
other than UTF-8 as 415, both as problem details, and nothing is stored."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.vg.api.world import LD_JSON, NOW

MERGE_PATCH = "application/merge-patch+json"


def _grant_body() -> dict:
    return {"audience": {"kind": "all_municipalities"}, "purposes": ["matching"],
            "fields": ["skills"], "validUntil": (NOW + timedelta(days=30)).isoformat()}


def _grants(world, person):
    return world.client.get("/api/v1/pod/toestemmingen", headers=person.headers).json()


def _problem(answer, status):
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    return answer.json()


ENCODINGS = {
    "utf-8 with a mark": lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
    "utf-16 with a mark": lambda text: text.encode("utf-16"),
    "utf-16 without a mark": lambda text: text.encode("utf-16-le"),
    "utf-32 with a mark": lambda text: text.encode("utf-32"),
}


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_a_grant_body_not_in_plain_utf8_is_refused(world, encoding):
    person = world.holder(world.skills(3))
    before = _grants(world, person)
    body = _grant_body()

    answer = world.client.post(
        "/api/v1/pod/toestemmingen", content=ENCODINGS[encoding](json.dumps(body)),
        headers={**person.headers, "Content-Type": "application/json"})

    assert "UTF-8" in _problem(answer, 400)["detail"]
    assert _grants(world, person) == before


@pytest.mark.parametrize("charset", ["latin-1", "ISO-8859-1", "utf-16", "us-ascii"])
def test_a_grant_body_declared_in_another_charset_is_refused(world, charset):
    person = world.holder(world.skills(3))
    before = _grants(world, person)
    body = _grant_body()

    answer = world.client.post(
        "/api/v1/pod/toestemmingen", content=json.dumps(body).encode("utf-8"),
        headers={**person.headers,
                 "Content-Type": f"application/json; charset={charset}"})

    assert "UTF-8" in _problem(answer, 415)["detail"]
    assert _grants(world, person) == before


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", '"utf-8"'])
def test_a_grant_body_declared_as_utf8_is_taken(world, charset):
    person = world.holder(world.skills(3))
    body = _grant_body()

    answer = world.client.post(
        "/api/v1/pod/toestemmingen", content=json.dumps(body).encode("utf-8"),
        headers={**person.headers,
                 "Content-Type": f"application/json; charset={charset}"})

    assert answer.status_code == 201, answer.text


def _pod_path(world, person) -> str:
    return f"/api/v1/pods/{world.system.pods.pod_id(person.did)}/werkcontext"


def _own(world, person):
    return world.client.get("/api/v1/pod/werkcontext", headers=person.headers).json()


@pytest.mark.parametrize("by_pod_path", [False, True])
@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_a_workcontext_not_in_plain_utf8_is_refused(world, encoding, by_pod_path):
    person = world.holder(world.skills(3))
    document = _own(world, person)
    document["name"] = "Zo\u00eb"

    answer = world.client.put(
        _pod_path(world, person) if by_pod_path else "/api/v1/pod/werkcontext",
        content=ENCODINGS[encoding](json.dumps(document, ensure_ascii=False)),
        headers={**person.headers, "Content-Type": LD_JSON})

    _problem(answer, 400)
    assert _own(world, person)["name"] != "Zo\u00eb"


@pytest.mark.parametrize("by_pod_path", [False, True])
@pytest.mark.parametrize("media_type", [LD_JSON, "application/json"])
def test_a_workcontext_declared_in_latin1_is_refused(world, media_type, by_pod_path):
    person = world.holder(world.skills(3))
    document = _own(world, person)
    document["name"] = "Zo\u00eb"

    answer = world.client.put(
        _pod_path(world, person) if by_pod_path else "/api/v1/pod/werkcontext",
        content=json.dumps(document, ensure_ascii=False).encode("latin-1"),
        headers={**person.headers, "Content-Type": f"{media_type}; charset=latin-1"})

    _problem(answer, 415)
    assert _own(world, person)["name"] != "Zo\u00eb"


def test_a_merge_patch_declared_in_latin1_is_refused(world):
    person = world.holder(world.skills(3))

    answer = world.client.patch(
        _pod_path(world, person), content='{"name": "Zo\u00eb"}'.encode("latin-1"),
        headers={**person.headers, "Content-Type": f"{MERGE_PATCH}; charset=latin-1"})

    _problem(answer, 415)
    assert _own(world, person)["name"] != "Zo\u00eb"


def test_a_merge_patch_with_a_mark_is_refused(world):
    person = world.holder(world.skills(3))

    answer = world.client.patch(
        _pod_path(world, person), content=b"\xef\xbb\xbf" + b'{"name": "Zoe"}',
        headers={**person.headers, "Content-Type": MERGE_PATCH})

    _problem(answer, 400)
    assert _own(world, person)["name"] != "Zoe"
