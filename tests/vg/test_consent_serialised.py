"""Every flow that changes a pod's consent (grant, renewal, withdrawal, erasure, a
save's publication) holds the pod's grant lock from reading the grants to
recording and publishing: whatever the order two of them arrive in, the outcome is
one of the two serial orders, never a withdrawn consent that goes on under a
renewal, nor a disclosure left behind an erased pod."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from pod import GrantNotLive, GrantRenewed, UnlockFailed
from tests.vg.test_api import NOW, UTRECHT, _assignment, _grant, _holder, _key
from tests.vg.test_api import _skills
from tests.vg.test_api import api  # noqa: F401  (a fixture used by name)
from tests.vg.test_grant_publication import PASSPHRASE, _candidates, _listed
from tests.vg.test_grant_publication import _new_grant
from vg import consent_flows, holder_flows, pod_rights

# How long a hook lets a racing request run before the flow it interrupts goes on:
# long enough for a request that is not held back to finish, so an unserialised
# flow shows its fault; a serialised one waits this long once.
RACE_WINDOW = 1.0
ALL_MUNICIPALITIES = {"kind": "all_municipalities"}


class Racing:
    """A request started in another thread while a flow is half-way."""

    def __init__(self, call):
        self.result, self.error = None, None
        self._thread = threading.Thread(target=self._run, args=(call,))
        self._thread.start()
        self._thread.join(RACE_WINDOW)

    def _run(self, call) -> None:
        try:
            self.result = call()
        except Exception as exc:  # noqa: BLE001  (the outcome is asserted on)
            self.error = exc

    def finish(self):
        self._thread.join(30)
        assert not self._thread.is_alive()
        return self


def _open(api, did):
    return holder_flows.unlock(api.system, did, PASSPHRASE, NOW)


def _live(api, holder) -> list[dict]:
    return [g for g in _listed(api, holder) if g["live"]]


def test_a_withdrawal_during_a_renewal_takes_the_renewal_with_it(api, monkeypatch):
    skills = _skills(api)
    did, holder = _holder(api, skills)
    old = _grant(api, holder, ["skills"], audience=ALL_MUNICIPALITIES)
    renewing = _open(api, did)
    sign = renewing.sign_grant
    started: list[Racing] = []

    def withdraw_meanwhile(*args, **kwargs):
        # The holder's other tab withdraws after the renewal checked the grant it
        # renews and before it records the new grant.
        started.append(Racing(lambda: holder_flows.withdraw_consent(
            api.system, _open(api, did), old, NOW)))
        return sign(*args, **kwargs)

    monkeypatch.setattr(renewing, "sign_grant", withdraw_meanwhile)
    renewal = consent_flows.renew_consent(api.system, renewing, old,
                                          NOW + timedelta(days=60), NOW)
    [withdrawal] = started
    withdrawal.finish()

    assert withdrawal.error is None
    assert withdrawal.result == [renewal.id]  # withdrawnWith: the renewal
    assert _live(api, holder) == []
    staff = _key(api, UTRECHT)
    assert _candidates(api, staff, _assignment(api, staff, skills)) == []


def test_a_renewal_after_a_withdrawal_is_refused_and_records_nothing(api):
    did, holder = _holder(api, _skills(api))
    old = _grant(api, holder, ["skills"], audience=ALL_MUNICIPALITIES)
    holder_flows.withdraw_consent(api.system, _open(api, did), old, NOW)

    with pytest.raises((GrantNotLive, GrantRenewed)):
        consent_flows.renew_consent(api.system, _open(api, did), old,
                                    NOW + timedelta(days=60), NOW)
    assert [g["id"] for g in _listed(api, holder)] == [old]


def test_a_grant_being_published_is_listed_and_a_withdrawal_waits_to_end_it(
        api, monkeypatch):
    skills = _skills(api)
    did, holder = _holder(api, skills)
    receive = api.system.registry.receive_disclosure
    started: list[Racing] = []

    def holder_acts_meanwhile(document, now):
        grant_id = document["grant"]["id"]
        # Looking waits for nothing; withdrawing waits for the grant.
        started.append(Racing(lambda: _listed(api, holder)).finish())
        started.append(Racing(lambda: api.delete(
            f"/api/v1/pod/toestemmingen/{grant_id}", headers=holder)))
        return receive(document, now)

    monkeypatch.setattr(api.system.registry, "receive_disclosure",
                        holder_acts_meanwhile)
    grant = _new_grant(api, _open(api, did))
    monkeypatch.undo()
    listing, withdrawal = (r.finish() for r in started)

    [listed] = listing.result
    assert listed["id"] == grant.id and listed["publicationPending"] is True
    assert listed["live"] is False and listed["withdrawn"] is None
    assert withdrawal.result.status_code == 200, withdrawal.result.text
    assert withdrawal.result.json()["withdrawn"] is not None
    [after] = _listed(api, holder)
    assert after["withdrawn"] is not None and after["live"] is False
    staff = _key(api, UTRECHT)
    assert _candidates(api, staff, _assignment(api, staff, skills)) == []


def _erase_before_shredding(api, monkeypatch, act) -> list[Racing]:
    """Once the registry has purged the holder and before the pod is shredded,
    the holder's other tab ``act``s."""
    erase = api.system.pods.erase
    started: list[Racing] = []

    def act_then_erase(pod):
        started.append(Racing(act))
        return erase(pod)

    monkeypatch.setattr(api.system.pods, "erase", act_then_erase)
    return started


def test_a_grant_racing_an_erasure_leaves_nothing_in_the_registry(api, monkeypatch):
    skills = _skills(api)
    did, _ = _holder(api, skills)
    other_tab = _open(api, did)
    racing = _erase_before_shredding(api, monkeypatch,
                                     lambda: _new_grant(api, other_tab))

    pod_rights.erase_pod(api.system, _open(api, did), NOW)
    monkeypatch.undo()
    [granting] = racing
    granting.finish()

    staff = _key(api, UTRECHT)
    assert _candidates(api, staff, _assignment(api, staff, skills)) == []
    assert granting.error is not None  # the pod it granted in is gone
    with pytest.raises(UnlockFailed):
        _open(api, did)


def test_a_save_racing_an_erasure_leaves_nothing_in_the_registry(api, monkeypatch):
    skills = _skills(api)
    did, holder = _holder(api, skills)
    _grant(api, holder, ["skills"])
    document = api.get("/api/v1/pod/werkcontext", headers=holder).json()
    other_tab = _open(api, did)
    racing = _erase_before_shredding(api, monkeypatch, lambda: (
        holder_flows.save_workcontext(api.system, other_tab, document, NOW)))

    pod_rights.erase_pod(api.system, _open(api, did), NOW)
    monkeypatch.undo()
    racing[0].finish()

    staff = _key(api, UTRECHT)
    assert _candidates(api, staff, _assignment(api, staff, skills)) == []


def test_withdrawals_racing_renewals_never_leave_a_consent_live(api):
    """The interleavings as threads meet them: a renewal and a withdrawal of the
    same grant, sent at once, again and again."""
    skills = _skills(api)
    did, holder = _holder(api, skills)
    staff = _key(api, UTRECHT)
    assignment = _assignment(api, staff, skills)
    renewing, withdrawing = _open(api, did), _open(api, did)
    outcomes = []
    for trial in range(25):
        grant = _grant(api, holder, ["skills"], audience=ALL_MUNICIPALITIES)
        start = threading.Barrier(2)
        answers: dict[str, object] = {}

        def renew():
            start.wait()
            try:
                answers["renewal"] = consent_flows.renew_consent(
                    api.system, renewing, grant, NOW + timedelta(days=60), NOW).id
            except (GrantNotLive, GrantRenewed) as exc:
                answers["renewal"] = exc.code

        def withdraw():
            start.wait()
            answers["withdrawal"] = holder_flows.withdraw_consent(
                api.system, withdrawing, grant, NOW)

        threads = [threading.Thread(target=renew), threading.Thread(target=withdraw)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)

        outcomes.append(answers)
        assert _live(api, holder) == [], (trial, answers)
        assert _candidates(api, staff, assignment) == [], (trial, answers)
        renewed = answers["renewal"]
        if renewed not in ("grant-not-live", "grant-renewed"):
            assert answers["withdrawal"] == [renewed], (trial, answers)


def test_a_save_with_no_grant_to_publish_does_not_wait_for_the_grant_lock(api):
    did, _ = _holder(api, _skills(api))
    holding, saving = _open(api, did), _open(api, did)
    document = holding.workcontext()

    with holding.grants_locked():
        save = Racing(lambda: holder_flows.save_workcontext(
            api.system, saving, {**document, "name": "Sanne Visser"}, NOW))
        assert save.result is not None and save.error is None

    assert save.finish().result.published == 0
    assert _open(api, did).workcontext()["name"] == "Sanne Visser"
