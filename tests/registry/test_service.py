"""Answers of the registry: every subject shown is in the audit log before the
answer leaves, and no answer leaves when the log can not be written (DESIGN.md
invariant 4); the holder's flows work end to end on the same System."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audit import AuditAppendFailed, AuditLog
from pod import PodError
from registry import Forbidden, Registry, RegistryError, Requester
from tests.factories import (
    AMSTERDAM,
    NOW,
    PASSPHRASE,
    UTRECHT,
    ZEIST,
    assignment,
    disclosure,
    disclosure_rows,
    full_workcontext,
    holder_key,
    signed_grant,
    staff_requester,
    trace_id,
)
from vg.holder_flows import (
    deliver,
    grant_consent,
    save_workcontext,
    withdraw_consent,
)


class FailingAuditLog(AuditLog):
    """An audit log whose store refuses every append."""

    def __init__(self) -> None:
        self.attempts = 0

    def append(self, entries):
        self.attempts += 1
        raise AuditAppendFailed(len(list(entries)))


def publish_three_holders(system) -> None:
    """Three visible holders with different grants, and one for another purpose."""
    grants = {
        1: ["skills", "level"],
        2: ["skills", "hours_per_week", "employer"],
        3: ["skills", "level", "salary_scale", "name"],
    }
    for n, fields in grants.items():
        key = holder_key(n)
        document = full_workcontext(key.did, level_rank=n + 1, hours_per_week=8 * n)
        system.registry.receive_disclosure(
            disclosure(key, signed_grant(key, fields), 1, document), NOW)
    key = holder_key(4)
    teamwork = signed_grant(key, ["skills", "level"], purposes=("teamwork",))
    system.registry.receive_disclosure(disclosure(key, teamwork, 1), NOW)


def test_every_subject_in_an_answer_is_in_the_audit_log_with_its_fields(system):
    publish_three_holders(system)
    requester = staff_requester(system)
    job = assignment(system, requester)

    page = system.registry.candidates(requester, job.id, NOW, trace_id(7))
    logged = system.audit.entries(trace_id=trace_id(7))

    assert len(page.candidates) == 3
    shown = sorted((c.profile.pseudonym, tuple(sorted(c.profile.fields)),
                    c.profile.grant_ids) for c in page.candidates)
    assert sorted((r.entry.subject, r.entry.fields, r.entry.grants)
                  for r in logged) == shown
    for record in logged:
        entry = record.entry
        assert (entry.organisation, record.access.actor) == (UTRECHT,
                                                             requester.actor)
        assert (entry.purpose, entry.outcome) == ("matching", "disclosed")
        assert f"assignment {job.id}" in entry.reason
    assert system.audit.verify().ok


def test_only_the_page_that_is_returned_is_logged(system):
    publish_three_holders(system)
    requester = staff_requester(system)
    job = assignment(system, requester)

    page = system.registry.candidates(requester, job.id, NOW, trace_id(8), limit=2)

    assert page.total == 3 and len(page.candidates) == 2
    assert {r.entry.subject for r in system.audit.entries(trace_id=trace_id(8))} == {
        c.profile.pseudonym for c in page.candidates}


def test_an_answer_with_nobody_in_it_logs_nothing(system):
    requester = staff_requester(system, AMSTERDAM)
    job = assignment(system, requester)
    publish_three_holders(system)  # all to Utrecht and its neighbours

    page = system.registry.candidates(requester, job.id, NOW, trace_id(9))

    assert page.candidates == []
    assert system.audit.count(trace_id=trace_id(9)) == 0


def test_a_failing_audit_append_fails_the_request_and_returns_nothing(system):
    publish_three_holders(system)
    requester = staff_requester(system)
    job = assignment(system, requester)
    failing = FailingAuditLog()
    registry = Registry(system.registry.engine, system.reference, failing,
                        system.pseudonym_secret)
    before = system.audit.count()

    with pytest.raises(AuditAppendFailed) as caught:
        registry.candidates(requester, job.id, NOW, trace_id(10))

    assert failing.attempts == 1
    assert caught.value.status == 503
    assert system.audit.count() == before


def test_a_rendered_page_is_logged_as_the_page_is_and_returned_after(system):
    publish_three_holders(system)
    requester = staff_requester(system)
    job = assignment(system, requester)
    rendered = []

    def render(page) -> str:
        rendered.append(page)
        return "response"

    answer = system.registry.candidates(requester, job.id, NOW, trace_id(12),
                                        render=render)
    page = system.registry.candidates(requester, job.id, NOW, trace_id(13))

    assert answer == "response" and len(rendered) == 1
    assert rendered[0].candidates == page.candidates
    assert rendered[0].total == page.total == 3

    def logged(n: int) -> list:
        return sorted((r.entry.subject, r.entry.fields, r.entry.grants, r.entry.name,
                       r.entry.reason, r.access.action, r.access.target)
                      for r in system.audit.entries(trace_id=trace_id(n)))
    assert len(logged(12)) == 3 and logged(12) == logged(13)


def test_a_failing_commit_fails_a_rendered_request_and_drops_its_answer(system):
    publish_three_holders(system)
    requester = staff_requester(system)
    job = assignment(system, requester)

    class FailingCommit(AuditLog):
        def _commit(self, raw):
            raise OSError("disk full (simulated)")

    registry = Registry(system.registry.engine, system.reference,
                        FailingCommit(system.audit.engine), system.pseudonym_secret)
    before = system.audit.count()

    with pytest.raises(AuditAppendFailed):
        registry.candidates(requester, job.id, NOW, trace_id(14),
                            render=lambda page: "response")

    assert system.audit.count() == before


def test_only_staff_may_ask_for_candidates(system):
    publish_three_holders(system)
    requester = staff_requester(system)
    job = assignment(system, requester)
    dpo = Requester(UTRECHT, requester.actor, "dpo")
    before = system.audit.count()

    with pytest.raises(Forbidden):
        system.registry.candidates(dpo, job.id, NOW, trace_id(11))
    assert system.audit.count() == before


def test_a_holder_grants_is_found_withdraws_and_is_gone_on_the_next_query(system):
    pod = system.pods.create(PASSPHRASE, NOW)
    save_workcontext(system, pod, full_workcontext(pod.did), NOW)
    grant = grant_consent(
        system, pod, {"kind": "employer_and_neighbours", "employer": UTRECHT},
        ["matching"], ["skills", "level", "hours_per_week"], NOW + timedelta(days=30),
        NOW)
    requester = staff_requester(system, ZEIST)
    job = assignment(system, requester)

    page = system.registry.candidates(requester, job.id, NOW, trace_id(12))
    [found] = page.candidates
    assert found.profile.fields == {"skills", "level", "hours_per_week"}
    assert "name" not in found.profile.workcontext

    withdraw_consent(system, pod, grant.id, NOW)

    assert system.registry.candidates(requester, job.id, NOW,
                                      trace_id(13)).candidates == []
    assert disclosure_rows(system.registry.engine, grant.id) == []
    assert not pod.grant(grant.id).is_live(NOW)


def test_a_changed_workcontext_is_republished_under_every_live_grant(system):
    pod = system.pods.create(PASSPHRASE, NOW)
    save_workcontext(system, pod, full_workcontext(pod.did), NOW)
    grant = grant_consent(system, pod, {"kind": "all_municipalities"}, ["matching"],
                          ["hours_per_week"], NOW + timedelta(days=30), NOW)

    saved = save_workcontext(system, pod, full_workcontext(pod.did, hours_per_week=36),
                             NOW)

    assert (saved.version, saved.published) == (2, 1)
    [row] = disclosure_rows(system.registry.engine, grant.id)
    assert row.hours_per_week == 36


def test_a_publication_racing_a_withdrawal_does_not_bring_the_data_back(system):
    pod = system.pods.create(PASSPHRASE, NOW)
    save_workcontext(system, pod, full_workcontext(pod.did), NOW)
    grant = grant_consent(system, pod, {"kind": "all_municipalities"}, ["matching"],
                          ["skills"], NOW + timedelta(days=30), NOW)
    signed_by_a_concurrent_save = pod.disclosure(grant, NOW)

    withdraw_consent(system, pod, grant.id, NOW)

    with pytest.raises(PodError):
        pod.disclosure(grant, NOW)
    with pytest.raises(RegistryError):
        deliver(system.registry, signed_by_a_concurrent_save, NOW)
    assert disclosure_rows(system.registry.engine, grant.id) == []
