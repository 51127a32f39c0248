"""A grant is recorded in the pod before the registry hears of it, and confirmed
after: a crash on the way leaves a grant the holder sees, never a disclosure the
pod does not know. A grant overtaken by a concurrent publication of the same holder
is numbered again, not refused as a replay."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from consent import Audience
from pod import GrantNotLive
from registry import GrantWithdrawn
from tests.vg.test_api import NOW, UTRECHT, _assignment, _grant, _holder, _key, _skills
from tests.vg.test_api import api  # noqa: F401  (a fixture used by name)
from vg import consent_flows, holder_flows

PASSPHRASE = "een lange wachtzin 42"
AMSTERDAM = "GM0363"


class Crash(BaseException):
    """The process dies here: nothing after this line runs, no handler sees it."""


def _open(api, did):
    return holder_flows.unlock(api.system, did, PASSPHRASE, NOW)


def _new_grant(api, pod, fields=("skills",)):
    return holder_flows.grant_consent(
        api.system, pod, {"kind": "organisation", "organisations": [UTRECHT]},
        ["matching"], list(fields), NOW + timedelta(days=30), NOW)


def _candidates(api, staff, assignment) -> list[dict]:
    answer = api.get(f"/api/v1/opdrachten/{assignment}/kandidaten", headers=staff)
    assert answer.status_code == 200, answer.text
    return answer.json()["candidates"]


def _listed(api, holder) -> list[dict]:
    answer = api.get("/api/v1/pod/toestemmingen", headers=holder)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_grant_is_recorded_before_its_disclosure_is_delivered(api, monkeypatch):
    did, _ = _holder(api, _skills(api))
    pod = _open(api, did)
    receive = api.system.registry.receive_disclosure
    recorded_at_delivery = []

    def receive_and_look(document, now):
        recorded_at_delivery.extend(
            (r.grant.id, r.publishing is not None) for r in pod.grants())
        return receive(document, now)

    monkeypatch.setattr(api.system.registry, "receive_disclosure", receive_and_look)
    grant = _new_grant(api, pod)

    assert recorded_at_delivery == [(grant.id, True)]
    [record] = pod.grants()
    assert record.publishing is None and record.is_live(NOW)


def test_a_crash_after_delivery_leaves_a_grant_withdrawn_on_the_next_open(
        api, monkeypatch):
    skills = _skills(api)
    did, holder = _holder(api, skills)
    staff = _key(api, UTRECHT)
    assignment = _assignment(api, staff, skills)
    receive = api.system.registry.receive_disclosure

    def receive_then_crash(document, now):
        receive(document, now)
        raise Crash()

    monkeypatch.setattr(api.system.registry, "receive_disclosure", receive_then_crash)
    with pytest.raises(Crash):
        _new_grant(api, _open(api, did))
    monkeypatch.undo()
    assert len(_candidates(api, staff, assignment)) == 1  # delivered, then the crash

    [grant] = _listed(api, holder)  # the next open

    assert grant["withdrawn"] is not None and grant["live"] is False
    assert _candidates(api, staff, assignment) == []
    history = api.get("/api/v1/pod/toestemmingen/historie", headers=holder).json()
    assert grant["id"] in json.dumps(history)


def test_a_grant_the_registry_refuses_leaves_nothing_in_the_pod(api, monkeypatch):
    from registry import StorageFailed

    did, holder = _holder(api, _skills(api))

    def unavailable(document, now):
        raise StorageFailed()

    monkeypatch.setattr(api.system.registry, "receive_disclosure", unavailable)
    with pytest.raises(StorageFailed):
        _new_grant(api, _open(api, did))
    monkeypatch.undo()

    assert _listed(api, holder) == []


def test_a_renewal_cut_short_before_the_old_grant_is_withdrawn_ends_it_on_the_next_open(
        api, monkeypatch):
    did, holder = _holder(api, _skills(api))
    old_id = _grant(api, holder, ["skills"])

    def crash(*_args, **_kwargs):
        raise Crash()

    monkeypatch.setattr(holder_flows, "end_grant", crash)
    with pytest.raises(Crash):
        consent_flows.renew_consent(api.system, _open(api, did), old_id,
                                    NOW + timedelta(days=60), NOW)
    monkeypatch.undo()

    grants = {g["id"]: g for g in _listed(api, holder)}

    assert grants[old_id]["withdrawn"] is not None
    [new] = [g for g in grants.values() if g["id"] != old_id]
    assert new["live"] is True
    assert grants[old_id]["renewedBy"] == new["id"] and new["renews"] == old_id


def test_a_grant_overtaken_by_a_concurrent_save_is_published_with_a_new_number(
        api, monkeypatch):
    skills = _skills(api)
    did, holder = _holder(api, skills)
    _grant(api, holder, ["skills"])
    pod = _open(api, did)
    document = api.get("/api/v1/pod/werkcontext", headers=holder).json()
    receive = api.system.registry.receive_disclosure
    saved = []

    def save_first(wire, now):
        if not saved:  # the holder's other tab saves between numbering and delivery
            saved.append(None)
            saved[0] = holder_flows.save_workcontext(api.system, pod, document, now)
        return receive(wire, now)

    monkeypatch.setattr(api.system.registry, "receive_disclosure", save_first)
    grant = _new_grant(api, pod, fields=("skills", "hours_per_week"))
    monkeypatch.undo()

    assert saved[0].published == 1 and saved[0].not_published == ()
    assert pod.grant(grant.id).is_live(NOW)
    staff = _key(api, UTRECHT)
    [candidate] = _candidates(api, staff, _assignment(api, staff, skills))
    assert "hours_per_week" in candidate["fields"]


def test_a_save_overtaken_by_a_concurrent_save_publishes_the_newest_version(
        api, monkeypatch):
    skills = _skills(api)
    did, holder = _holder(api, skills)
    _grant(api, holder, ["skills", "hours_per_week"],
           audience={"kind": "organisation", "organisations": [AMSTERDAM]})
    pod = _open(api, did)
    document = api.get("/api/v1/pod/werkcontext", headers=holder).json()
    receive = api.system.registry.receive_disclosure
    newer = []

    def other_save_first(wire, now):
        if not newer:
            newer.append(None)
            later = {**document, "availability": {"type": "Availability",
                                                   "hoursPerWeek": 32}}
            holder_flows.save_workcontext(api.system, pod, later, now)
        return receive(wire, now)

    monkeypatch.setattr(api.system.registry, "receive_disclosure", other_save_first)
    first = holder_flows.save_workcontext(
        api.system, pod, {**document, "availability": {"type": "Availability",
                                                       "hoursPerWeek": 24}}, NOW)
    monkeypatch.undo()

    assert first.published == 1 and first.not_published == ()
    staff = _key(api, AMSTERDAM)
    [candidate] = _candidates(api, staff, _assignment(api, staff, skills))
    assert candidate["workcontext"]["availability"]["hoursPerWeek"] == 32




def test_a_grant_still_being_published_can_not_be_renewed(api):
    did, _ = _holder(api, _skills(api))
    pod = _open(api, did)
    grant = pod.sign_grant(Audience.from_json(
        {"kind": "organisation", "organisations": [UTRECHT]}), ["matching"],
        ["skills"], NOW + timedelta(days=30), NOW)
    pod.store_grant(grant, publishing=NOW)  # its maker is still on the way

    with pytest.raises(GrantNotLive):
        consent_flows.renew_consent(api.system, pod, grant.id,
                                    NOW + timedelta(days=60), NOW)
    assert [r.grant.id for r in pod.grants()] == [grant.id]
