"""An organisation watches the intro video a holder granted it: through the consent
gate, by byte ranges, logged first, and never again once the grant ends."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from registry.tables import Disclosure
from registry.tables_video import VideoShare
from tests.vg.api.world import GRONINGEN, LD_JSON, NOW, UTRECHT, Person, World

VIDEO = bytes(range(256)) * 1024 + b"end"  # 256 KiB and 3 bytes: five chunks
VIDEO_NAME = "introductievideo"


def with_video(world: World, person: Person, video: bytes = VIDEO,
               media_type: str = "video/mp4") -> str:
    """Upload the video into the pod and name it in the Workcontext, as the web
    page does; returns the pod id."""
    system = world.system
    pod_id = system.pods.pod_id(person.did)
    base = f"/api/v1/pods/{pod_id}/"
    stored = world.client.put(base + f"bestanden/{VIDEO_NAME}", content=video,
                              headers={**person.headers, "Content-Type": media_type})
    assert stored.status_code == 201, stored.text
    document = world.client.get("/api/v1/pod/werkcontext",
                                headers=person.headers).json()
    document["introVideo"] = {
        "type": "VideoObject", "encodingFormat": media_type,
        "contentUrl": f"{system.settings.public_base()}{base[1:]}bestanden/"
                      f"{VIDEO_NAME}"}
    saved = world.client.put("/api/v1/pod/werkcontext", content=json.dumps(document),
                             headers={**person.headers, "Content-Type": LD_JSON})
    assert saved.status_code == 200, saved.text
    return pod_id


def candidate_video(world: World, staff: dict, person: Person,
                    organisation: str = UTRECHT) -> str:
    """The intro video address on the candidate's card, as the organisation gets it."""
    assignment = world.assignment(staff, world.skills(2))
    page = world.client.get(f"/api/v1/opdrachten/{assignment}/kandidaten",
                            headers=staff)
    assert page.status_code == 200, page.text
    shown = world.seen_by(person, organisation)
    card = next(c for c in page.json()["candidates"] if c["subject"] == shown)
    return card["workcontext"]["introVideo"]["contentUrl"]


def path_of(address: str) -> str:
    return address[address.index("/api/v1/"):]


def shared(world: World) -> list:
    with world.system.registry.engine.connect() as conn:
        return conn.execute(select(VideoShare.__table__)).all()


def copies(world: World) -> list:
    folder = world.system.settings.data_dir / "video-shares"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def granted(world: World, fields=("skills", "intro_video"), **options):
    person = world.holder(world.skills(3))
    pod_id = with_video(world, person)
    grant = world.grant(person, fields, **options)
    return person, pod_id, grant


def test_an_organisation_in_the_audience_watches_a_granted_intro_video(world):
    person, _, _ = granted(world)
    staff = world.staff(UTRECHT)

    address = candidate_video(world, staff, person)
    answer = world.client.get(path_of(address), headers=staff)

    assert answer.status_code == 200, answer.text
    assert answer.content == VIDEO
    assert answer.headers["content-type"] == "video/mp4"
    assert answer.headers["accept-ranges"] == "bytes"


def test_no_disclosed_value_names_the_pod_id_or_the_holders_did(world):
    person, pod_id, _ = granted(world)
    staff = world.staff(UTRECHT)

    address = candidate_video(world, staff, person)
    page = world.client.get(
        f"/api/v1/opdrachten/{world.assignment(staff, world.skills(2))}/kandidaten",
        headers=staff).text

    assert pod_id not in address and person.did not in address
    assert path_of(address).startswith("/api/v1/introductievideos/")
    assert pod_id not in page
    with world.system.registry.engine.connect() as conn:
        stored = conn.execute(select(Disclosure.__table__.c.document)).scalars().all()
    assert stored and all(pod_id not in document for document in stored)
    assert len(shared(world)) == 1


def test_a_byte_range_answers_206_with_just_those_bytes(world):
    person, _, _ = granted(world)
    staff = world.staff(UTRECHT)
    path = path_of(candidate_video(world, staff, person))

    across = world.client.get(path, headers={**staff, "Range": "bytes=65530-65545"})
    tail = world.client.get(path, headers={**staff, "Range": "bytes=-3"})
    outside = world.client.get(path, headers={**staff, "Range": f"bytes={len(VIDEO)}-"})

    assert across.status_code == 206 and across.content == VIDEO[65530:65546]
    assert across.headers["content-range"] == f"bytes 65530-65545/{len(VIDEO)}"
    assert tail.status_code == 206 and tail.content == b"end"
    assert outside.status_code == 416
    assert outside.headers["content-range"] == f"bytes */{len(VIDEO)}"


def test_every_access_is_logged_with_the_field_grant_and_purpose(world):
    person, _, grant = granted(world)
    staff = world.staff(UTRECHT)
    path = path_of(candidate_video(world, staff, person))
    before = len(world.audit(subject=person.subject))

    world.client.get(path, headers=staff)
    world.client.get(path, headers={**staff, "Range": "bytes=0-9"})

    entries = world.audit(subject=person.subject)[before:]
    watched = [e for e in entries if e.name == "intro-video"]
    assert len(watched) == 2
    assert all(e.fields == ("intro_video",) and e.grants == (grant,)
               and e.purpose == "matching" and e.outcome == "disclosed"
               for e in watched)


def test_a_failing_audit_log_fails_the_request_and_shows_nothing(world, monkeypatch):
    person, _, _ = granted(world)
    staff = world.staff(UTRECHT)
    path = path_of(candidate_video(world, staff, person))

    def broken(*args, **kwargs):
        raise RuntimeError("the log is down")

    monkeypatch.setattr(world.system.audit, "append", broken)
    client = world.client.__class__(world.client.app, raise_server_exceptions=False)
    answer = client.get(path, headers=staff)

    assert answer.status_code >= 500
    assert VIDEO[:1024] not in answer.content


def test_an_organisation_outside_the_audience_gets_404_problem(world):
    person, _, _ = granted(world, audience={"kind": "employer", "employer": UTRECHT})
    address = candidate_video(world, world.staff(UTRECHT), person)

    outside = world.client.get(path_of(address), headers=world.staff(GRONINGEN))

    assert outside.status_code == 404
    assert outside.headers["content-type"] == "application/problem+json"
    assert outside.json()["code"] == "video-not-found"
    assert VIDEO[:1024] not in outside.content


def test_each_organisation_is_shown_its_own_address_of_one_copy(world):
    person, _, _ = granted(world)
    utrecht, groningen = world.staff(UTRECHT), world.staff(GRONINGEN)
    (share,) = shared(world)

    ours = candidate_video(world, utrecht, person)
    theirs = candidate_video(world, groningen, person, GRONINGEN)

    assert ours != theirs
    assert share.share_id not in ours and share.share_id not in theirs
    assert world.client.get(path_of(ours), headers=utrecht).content == VIDEO
    assert world.client.get(path_of(theirs), headers=groningen).content == VIDEO


def test_an_address_shown_to_another_organisation_is_an_unknown_video(world):
    person, _, _ = granted(world)
    utrecht, groningen = world.staff(UTRECHT), world.staff(GRONINGEN)
    ours = path_of(candidate_video(world, utrecht, person))
    theirs = path_of(candidate_video(world, groningen, person, GRONINGEN))
    before = len(world.audit(subject=person.subject))

    crossed = [world.client.get(theirs, headers=utrecht),
               world.client.get(ours, headers=groningen),
               world.client.get(ours, headers={**groningen, "Range": "bytes=0-9"})]
    unknown = world.client.get(ours[:-1] + ("a" if ours[-1] != "a" else "b"),
                               headers=utrecht)

    for answer in crossed:
        assert answer.status_code == unknown.status_code == 404
        assert answer.json() == unknown.json()
        assert VIDEO[:10] not in answer.content
    assert len(world.audit(subject=person.subject)) == before


def test_the_share_id_the_holder_signed_is_no_address(world):
    person, _, _ = granted(world)
    staff = world.staff(UTRECHT)
    candidate_video(world, staff, person)
    (share,) = shared(world)

    bare = world.client.get(f"/api/v1/introductievideos/{share.share_id}",
                            headers=staff)

    assert bare.status_code == 404 and bare.json()["code"] == "video-not-found"
    assert VIDEO[:1024] not in bare.content


def test_another_purpose_than_the_grants_gets_404(world):
    person, _, _ = granted(world)
    staff = world.staff(UTRECHT)
    path = path_of(candidate_video(world, staff, person))

    other = world.client.get(path, params={"purpose": "teamwork"}, headers=staff)
    unknown = world.client.get(path, params={"purpose": "contact"}, headers=staff)

    assert other.status_code == 404 and other.json()["code"] == "video-not-found"
    assert unknown.status_code == 400


def test_a_dpo_may_not_watch_and_the_refusal_is_logged(world):
    person, _, _ = granted(world)
    path = path_of(candidate_video(world, world.staff(UTRECHT), person))

    refused = world.client.get(path, headers=world.staff(UTRECHT, role="dpo"))

    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    log = world.system.audit
    records = [log.record_at(i) for i in range(log.head().size)]
    assert any(r.kind == "access" and r.action == "intro-video"
               and r.result == "refused" for r in records if r is not None)


def test_an_unknown_or_malformed_address_is_refused(world):
    staff = world.staff(UTRECHT)

    unknown = world.client.get("/api/v1/introductievideos/" + "0" * 32, headers=staff)
    malformed = world.client.get("/api/v1/introductievideos/..%2Fpods", headers=staff)
    anonymous = world.client.get("/api/v1/introductievideos/" + "0" * 32)

    assert unknown.status_code == 404 and unknown.json()["code"] == "video-not-found"
    assert malformed.status_code in (400, 404)
    assert anonymous.status_code == 401


def test_a_grant_without_intro_video_shares_no_video(world):
    person = world.holder(world.skills(3))
    with_video(world, person)
    world.grant(person, ["skills"])

    assert shared(world) == [] and copies(world) == []


def test_withdrawal_destroys_the_copy_and_access_stops_at_once(world):
    person, _, grant = granted(world)
    staff = world.staff(UTRECHT)
    path = path_of(candidate_video(world, staff, person))
    assert len(copies(world)) == 1

    world.withdraw(person, grant)

    assert world.client.get(path, headers=staff).status_code == 404
    assert shared(world) == [] and copies(world) == []


def test_expiry_destroys_the_copy(world):
    person, _, _ = granted(world)
    staff = world.staff(UTRECHT)
    path = path_of(candidate_video(world, staff, person))

    world.clock["now"] = NOW + timedelta(days=31)
    world.login(person)
    staff = world.staff(UTRECHT)
    answer = world.client.get(path, headers=staff)
    world.system.registry.sweep_videos()

    assert answer.status_code == 404
    assert shared(world) == [] and copies(world) == []


def test_erasure_destroys_every_copy(world):
    person, _, _ = granted(world)
    world.grant(person, ["intro_video"],
                audience={"kind": "employer", "employer": UTRECHT})
    assert len(shared(world)) == 2 and len(copies(world)) == 2

    erased = world.client.request("DELETE", "/api/v1/pod", headers=person.headers,
                                  json={"passphrase": "een lange wachtzin 42"})

    assert erased.status_code in (200, 204), erased.text
    assert shared(world) == [] and copies(world) == []


def test_a_new_video_replaces_the_copy_and_the_old_address_ends(world):
    person, _, _ = granted(world)
    staff = world.staff(UTRECHT)
    old = path_of(candidate_video(world, staff, person))

    with_video(world, person, b"another video" * 10000, "video/webm")
    new = path_of(candidate_video(world, staff, person))

    assert new != old
    assert world.client.get(old, headers=staff).status_code == 404
    answer = world.client.get(new, headers=staff)
    assert answer.content == b"another video" * 10000
    assert answer.headers["content-type"] == "video/webm"
    assert len(shared(world)) == 1 and len(copies(world)) == 1


def test_publishing_again_does_not_copy_the_video_again(world):
    person, _, _ = granted(world)
    before = copies(world)
    received = shared(world)[0].received

    document = world.client.get("/api/v1/pod/werkcontext",
                                headers=person.headers).json()
    document["name"] = "Sanne de Vries"
    saved = world.client.put("/api/v1/pod/werkcontext", content=json.dumps(document),
                             headers={**person.headers, "Content-Type": LD_JSON})

    assert saved.status_code == 200 and saved.json()["published"] == 1
    assert copies(world) == before and shared(world)[0].received == received


def test_a_deleted_video_is_left_out_of_the_disclosure_and_its_copy_ends(world):
    person, pod_id, _ = granted(world)
    staff = world.staff(UTRECHT)
    removed = world.client.delete(f"/api/v1/pods/{pod_id}/bestanden/{VIDEO_NAME}",
                                  headers=person.headers)
    assert removed.status_code == 204  # the grant is published again at once

    page, card = _candidate_card(world, staff, person)
    assert "introVideo" not in card["workcontext"]
    assert pod_id not in json.dumps(page)
    assert shared(world) == [] and copies(world) == []


def test_a_video_replaced_in_the_pod_alone_ends_the_old_copy(world):
    person, pod_id, _ = granted(world)
    staff = world.staff(UTRECHT)
    old = path_of(candidate_video(world, staff, person))

    replaced = world.client.put(f"/api/v1/pods/{pod_id}/bestanden/{VIDEO_NAME}",
                                content=b"newer" * 1000,
                                headers={**person.headers, "Content-Type": "video/mp4"})
    new = path_of(candidate_video(world, staff, person))

    assert replaced.status_code == 201 and new != old
    assert world.client.get(old, headers=staff).status_code == 404
    assert world.client.get(new, headers=staff).content == b"newer" * 1000
    assert len(shared(world)) == 1 and len(copies(world)) == 1


@pytest.mark.parametrize("method", ["HEAD"])
def test_head_answers_without_the_video_or_its_size(world, method):
    person, _, _ = granted(world)
    staff = world.staff(UTRECHT)
    path = path_of(candidate_video(world, staff, person))

    logged = len(world.audit())

    answer = world.client.request(method, path, headers=staff)

    # A HEAD is shown no personal data: not the video, nor its size, nor a log entry.
    assert answer.status_code == 200 and answer.content == b""
    assert "content-length" not in answer.headers
    assert len(world.audit()) == logged


def test_head_with_a_range_outside_the_video_tells_neither_its_size_nor_logs(world):
    person, _, _ = granted(world)
    staff = world.staff(UTRECHT)
    path = path_of(candidate_video(world, staff, person))
    logged = len(world.audit())

    answer = world.client.head(path, headers={**staff, "Range": "bytes=999999999-"})

    assert answer.status_code == 200 and answer.content == b""
    assert "content-range" not in answer.headers
    assert "content-length" not in answer.headers
    assert len(world.audit()) == logged


def test_a_range_outside_the_video_is_logged_before_its_size_is_told(world):
    person, _, grant = granted(world)
    staff = world.staff(UTRECHT)
    path = path_of(candidate_video(world, staff, person))
    before = len(world.audit(subject=person.subject))

    outside = world.client.get(path, headers={**staff, "Range": "bytes=999999999-"})

    # 416 names the size (RFC 9110 15.5.17), which the HEAD above may not tell.
    assert outside.status_code == 416
    assert outside.headers["content-range"] == f"bytes */{len(VIDEO)}"
    entries = world.audit(subject=person.subject)[before:]
    assert [(e.name, e.fields, e.grants) for e in entries] == [
        ("intro-video", ("intro_video",), (grant,))]


@pytest.mark.parametrize("named", ["another holder's copy", "elsewhere"])
def test_only_the_holders_own_video_reaches_their_card(world, named):
    other, _, _ = granted(world)
    staff = world.staff(UTRECHT)
    others = candidate_video(world, staff, other)
    person = world.holder(world.skills(3), name="Bram Visser")
    document = world.client.get("/api/v1/pod/werkcontext",
                                headers=person.headers).json()
    document["introVideo"] = {
        "type": "VideoObject", "encodingFormat": "video/mp4",
        "contentUrl": others if named == "another holder's copy"
        else "https://video.voorbeeld.nl/intro.mp4"}
    saved = world.client.put("/api/v1/pod/werkcontext", content=json.dumps(document),
                             headers={**person.headers, "Content-Type": LD_JSON})
    assert saved.status_code == 200, saved.text

    world.grant(person, ["skills", "intro_video"])
    page, card = _candidate_card(world, staff, person)
    assert "introVideo" not in card["workcontext"]
    assert len(shared(world)) == 1


def _candidate_card(world, staff, person) -> tuple[dict, dict]:
    """A new assignment's candidate page for ``staff`` and ``person``'s card on it."""
    assignment = world.assignment(staff, world.skills(2))
    page = world.client.get(f"/api/v1/opdrachten/{assignment}/kandidaten",
                            headers=staff).json()
    shown = world.seen_by(person)
    return page, next(c for c in page["candidates"] if c["subject"] == shown)


def test_two_organisations_are_not_shown_one_address_for_a_video(world):
    """A grant's one address would join two organisations' records of the holder,
    as the registry's pseudonym and a grant's id would (registry/org_pseudonyms.py)."""
    person, _, _ = granted(world)
    utrecht = candidate_video(world, world.staff(UTRECHT), person)
    groningen_staff = world.staff(GRONINGEN)
    assignment = world.assignment(groningen_staff, world.skills(2))
    page = world.client.get(f"/api/v1/opdrachten/{assignment}/kandidaten",
                            headers=groningen_staff).json()
    shown = world.seen_by(person, GRONINGEN)
    card = next(c for c in page["candidates"] if c["subject"] == shown)

    assert card["workcontext"]["introVideo"]["contentUrl"] != utrecht
