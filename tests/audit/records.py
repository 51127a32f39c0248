"""Builders for audit records: ``request(n, k)`` is one request's access record and
its ``k`` entries, linked as the registry links them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from audit import AccessRecord, AuditEntry, AuditLog

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday, 10:00 in Amsterdam


def access(n: int = 1, **changes: object) -> AccessRecord:
    values: dict[str, object] = dict(
        trace_id=f"{n:08x}4bf92f3577b34da6a3ce929d", span_id=f"{n:08x}00000000",
        occurred_at=T0 + timedelta(minutes=n), actor=f"apikey:{n % 3}",
        organisation=("GM0344", "GM0363")[n % 2], role="staff",
        action="assignment-candidates", target=f"assignment {n}",
        result="disclosed", origin="api", subjects=1, reason="candidates shown")
    values.update(changes)
    return AccessRecord(**values)  # type: ignore[arg-type]


def entry(n: int = 1, k: int = 0, **changes: object) -> AuditEntry:
    values: dict[str, object] = dict(
        trace_id=f"{n:08x}4bf92f3577b34da6a3ce929d", span_id=f"{n:08x}{k + 1:08x}",
        parent_span_id=f"{n:08x}00000000", name="disclose",
        started_at=T0 + timedelta(minutes=n), ended_at=T0 + timedelta(minutes=n),
        processing_activity="https://vg.example/rvva/matching/v1",
        organisation=("GM0344", "GM0363")[n % 2],
        purpose=("matching", "contact")[n % 3 == 0], subject=f"psn-{(n + k) % 5}",
        fields=("skills", "level"), grants=(f"grant-{n}",),
        outcome=("disclosed", "refused")[n % 4 == 0], reason="a live grant covers it")
    values.update(changes)
    return AuditEntry(**values)  # type: ignore[arg-type]


def request(n: int, k: int = 1) -> list:
    return [access(n, subjects=k), *(entry(n, i) for i in range(k))]


def filled(log: AuditLog, requests: int = 4, k: int = 2) -> list:
    """``requests`` requests of one access record and ``k`` entries each."""
    records = []
    for n in range(1, requests + 1):
        batch = request(n, k)
        assert log.append(batch) == list(range(len(records), len(records) + k + 1))
        records.extend(batch)
    return records
