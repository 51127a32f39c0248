"""What a DPO asks of the log: entries filtered by organisation, requester, purpose,
subject, period and outcome, with the access record that says who asked; counts per
day and purpose; CSV export; and flags for unusual access."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import event

from audit import FlagRules, InvalidAuditQuery, to_csv
from tests.audit.records import T0, access, entry, filled


def test_entries_filter_by_each_field_and_by_period(log):
    records = filled(log, 12, 1)
    entries = [r for r in records if r.kind == "processing"]

    def expect(keep) -> list[int]:
        return [i for i, r in enumerate(records) if r.kind == "processing" and keep(r)]

    def indices(**filters) -> list[int]:
        return [r.index for r in log.entries(**filters)]

    assert indices(organisation="GM0363") == expect(lambda e: e.organisation == "GM0363")
    assert indices(subject="psn-2") == expect(lambda e: e.subject == "psn-2")
    assert indices(purpose="contact") == expect(lambda e: e.purpose == "contact")
    assert indices(outcome="refused") == expect(lambda e: e.outcome == "refused")
    assert indices(requester="apikey:1") == [1 + 2 * (n - 1) for n in (1, 4, 7, 10)]
    assert indices(trace_id=entries[6].trace_id) == [13]
    assert indices(processing_activity="vg:other") == []
    assert indices(since=T0 + timedelta(minutes=3), until=T0 + timedelta(minutes=6)) == [
        5, 7, 9]
    tick = timedelta(microseconds=1)  # finer than the stored milliseconds
    assert indices(since=T0 + timedelta(minutes=3) + tick,
                   until=T0 + timedelta(minutes=6) + tick) == [7, 9, 11]
    assert indices(limit=3, offset=2) == [5, 7, 9]
    assert log.count() == 12
    assert log.count(requester="apikey:1", purpose="matching") == len(
        [n for n in (1, 4, 7, 10) if n % 3])


@pytest.mark.parametrize(("filters", "parameter"), [
    ({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"limit": True}, "limit"),
    ({"offset": -1}, "offset"), ({"outcome": "maybe"}, "outcome"),
    ({"organisation": ""}, "organisation"), ({"subject": 7}, "subject"),
    ({"requester": "x" * 201}, "requester"),
    ({"since": datetime(2026, 1, 1)}, "since"),
    ({"until": "2026-01-01T00:00:00Z"}, "until"), ({"colour": "blue"}, "colour"),
])
def test_an_invalid_query_is_a_400_naming_the_parameter(log, filters, parameter):
    with pytest.raises(InvalidAuditQuery) as caught:
        log.entries(**filters)
    assert caught.value.parameter == parameter
    assert (caught.value.status, caught.value.code) == (400, "invalid-audit-query")


def test_counts_per_day_purpose_and_outcome(log):
    log.append([access(1, subjects=3), entry(1, 0), entry(1, 1), entry(
        1, 2, outcome="refused")])
    later = {"started_at": T0 + timedelta(days=1), "ended_at": T0 + timedelta(days=1)}
    log.append([access(2), entry(2, 0, purpose="contact", **later)])
    assert log.daily_counts() == [
        {"day": "2026-03-02", "purpose": "matching", "outcome": "disclosed", "count": 2},
        {"day": "2026-03-02", "purpose": "matching", "outcome": "refused", "count": 1},
        {"day": "2026-03-03", "purpose": "contact", "outcome": "disclosed", "count": 1}]
    assert log.daily_counts(organisation="GM0344") == [
        {"day": "2026-03-03", "purpose": "contact", "outcome": "disclosed", "count": 1}]


def test_csv_export_has_a_header_one_row_per_entry_and_defuses_formulas(log):
    log.append([access(1, actor="=HYPERLINK(1)"), entry(1, 0)])
    rows = list(csv.DictReader(io.StringIO(to_csv(log.entries()))))
    assert len(rows) == 1
    assert rows[0]["requester"] == "'=HYPERLINK(1)"
    assert rows[0]["fields"] == "level skills" and rows[0]["index"] == "1"


# --- flags -------------------------------------------------------------------------


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time on 2026-03-<day> in UTC (Amsterdam is UTC+1 in March)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def shown(log, n: int, when: datetime, actor: str = "apikey:7", subjects=("psn-1",),
          purpose: str = "matching", action: str = "assignment-candidates") -> None:
    times = {"started_at": when, "ended_at": when, "organisation": "GM0363"}
    log.append([access(n, actor=actor, occurred_at=when, action=action,
                       subjects=len(subjects), organisation="GM0363"),
                *(entry(n, k, subject=s, purpose=purpose, **times)
                  for k, s in enumerate(subjects))])


RULES = FlagRules(expected_purposes={"assignment-candidates": frozenset({"matching"})})


def kinds(found) -> list[str]:
    return sorted(f.kind for f in found)


def test_a_quiet_working_week_raises_no_flag(log):
    for n, day in enumerate((2, 3, 4, 5, 6), start=1):
        shown(log, n, at(day, 9), subjects=(f"psn-{n}",))
    found, truncated = log.flags(at(2, 0), at(9, 0), RULES)
    assert found == [] and not truncated


def test_access_outside_office_hours_is_flagged(log):
    shown(log, 1, at(2, 5, 30))   # 06:30 in Amsterdam, Monday
    shown(log, 2, at(7, 10))      # Saturday
    shown(log, 3, at(3, 17, 59), subjects=("psn-2",))  # 18:59, in hours
    found, _ = log.flags(at(1, 0), at(9, 0), RULES)
    assert [(f.kind, f.trace_id[:8]) for f in found] == [
        ("office-hours", "00000001"), ("office-hours", "00000002")]


def test_a_day_far_above_the_requester_s_usual_is_flagged(log):
    for n, day in enumerate(range(2, 12), start=1):  # usual: 2 a day
        shown(log, n, at(day, 9), subjects=(f"a{n}", f"b{n}"))
    shown(log, 50, at(16, 9), subjects=tuple(f"c{i}" for i in range(25)))
    found, _ = log.flags(at(16, 0), at(17, 0), RULES)
    assert kinds(found) == ["volume"]
    assert found[0].count == 25 and "usual day 2" in found[0].detail


def test_repeated_views_of_one_person_are_flagged(log):
    for n in range(1, 4):
        shown(log, n, at(2 + n, 9), subjects=("psn-same",))
    found, _ = log.flags(at(1, 0), at(9, 0), RULES)
    assert kinds(found) == ["repeated-views"]
    assert (found[0].subject, found[0].count) == ("psn-same", 3)


def test_a_purpose_that_does_not_fit_the_action_is_flagged(log):
    shown(log, 1, at(2, 9), purpose="contact")
    found, _ = log.flags(at(1, 0), at(9, 0), RULES)
    assert kinds(found) == ["purpose"] and "contact" in found[0].detail


@pytest.mark.parametrize(("since", "until"), [
    (at(9, 0), at(2, 0)), (at(1, 0), at(1, 0) + timedelta(days=93)),
    (datetime(2026, 3, 1), at(2, 0))])
def test_flags_need_an_aware_period_of_at_most_92_days(log, since, until):
    with pytest.raises(InvalidAuditQuery):
        log.flags(since, until, RULES)


def test_office_hours_are_a_setting(log):
    shown(log, 1, at(2, 5, 30))
    found, _ = log.flags(at(1, 0), at(9, 0), FlagRules(office_start=time(6, 0)))
    assert found == []


@pytest.mark.parametrize("filters", [
    {"organisation": "GM0344"}, {"subject": "psn-1"}, {"requester": "apikey:1"},
    {"trace_id": "000000014bf92f3577b34da6a3ce929d"},
    {"organisation": "GM0344", "requester": "apikey:1", "purpose": "matching"},
    {"requester": "apikey:1", "since": T0, "until": T0 + timedelta(days=1)},
    {"subject": "psn-1", "since": T0, "until": T0 + timedelta(days=1)}])
@pytest.mark.parametrize("paged", [False, True])
def test_each_dpo_and_holder_filter_reads_entries_through_an_index(
        log, backend, filters, paged):
    # SQLite's plan: the entries are searched by an index, never scanned whole;
    # a requester's and a trace's through the keys' trace index (trace_id,
    # with the parent span for a requester's), written behind the log, and
    # the log's tail after it by its index; a requester's access records by
    # the access keys' actor index. So also when a page is chosen among the
    # keys (``paged``).
    if backend != "sqlite":
        pytest.skip("the plan is SQLite's; PostgreSQL's depends on its statistics")
    from audit import queries

    filled(log, 4, 2)
    if paged:
        stmt = queries._paged(log, 200, 0, 3, filters).params({queries.FLOOR: 0})
    else:
        stmt = queries._selected(log, filters).order_by(
            log.tables.entries.c.idx).limit(200)
    plan = sqlite_plan(log, stmt)
    # Only the requester's records, made once, are read whole ("requested"),
    # and in a paged read the first of each side (subqueries "anon_<n>").
    scanned = [step for step in plan if step.startswith("SCAN")
               and step != "SCAN requested" and not step.startswith("SCAN anon_")]
    assert scanned == [], plan
    keys = log.tables.keys.name
    if "requester" in filters:
        assert any(f"INDEX ix_{keys}_trace (trace_id=? AND parent_span_id=?"
                   in step for step in plan), plan
    elif "trace_id" in filters:
        assert any(f"INDEX ix_{keys}_trace (trace_id=?" in step
                   for step in plan), plan
    if "requester" in filters:
        # Driven by the requester's few access keys, not by every entry of
        # the organisation (or period) looked up against them.
        assert not any(f"ix_{keys}_org_time" in step or f"ix_{keys}_time" in step
                       for step in plan), plan
    if "requester" in filters:
        access_keys = log.tables.access_keys.name
        assert any(f"INDEX ix_{access_keys}_actor_time (actor=?)" in step
                   for step in plan), plan


def test_the_access_records_of_a_page_are_read_through_the_trace_index(log, backend):
    if backend != "sqlite":
        pytest.skip("the plan is SQLite's; PostgreSQL's depends on its statistics")
    from audit import queries

    filled(log, 4, 2)
    statements: list[str] = []
    with log.engine.connect() as conn:
        rows = conn.execute(queries._selected(log, {})).mappings().all()

        @event.listens_for(conn, "before_cursor_execute")
        def seen(conn, cursor, statement, parameters, context, executemany):
            statements.append((statement, parameters))

        queries._access_of(log, conn, rows)
        [(sql, parameters)] = statements
        plan = [row[-1] for row in conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + sql, parameters)]
    access_keys = log.tables.access_keys.name
    assert [step for step in plan if step.startswith("SCAN")] == [], plan
    assert any(f"INDEX ix_{access_keys}_trace (trace_id=?)" in step
               for step in plan), plan


def sqlite_plan(log, stmt) -> list[str]:
    sql = str(stmt.compile(log.engine, compile_kwargs={"literal_binds": True}))
    with log.engine.connect() as conn:
        return [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]


def test_a_volume_flag_names_the_utc_day_the_counts_and_the_filter_use(log):
    # 23:30 UTC is already the next day in Amsterdam: the flag still names the
    # day the statistics count the entries on, and that day's filter finds them.
    for n, day in enumerate(range(2, 12), start=1):
        shown(log, n, at(day, 9), subjects=(f"a{n}", f"b{n}"))
    shown(log, 50, at(16, 23, 30), subjects=tuple(f"c{i}" for i in range(25)))

    found, _ = log.flags(at(16, 0), at(18, 0), RULES)

    [flag] = [f for f in found if f.kind == "volume"]
    assert flag.day == "2026-03-16" and "2026-03-16" in flag.detail
    days = {c["day"] for c in log.daily_counts(since=at(16, 0), until=at(18, 0))}
    assert days == {flag.day}
    assert len(log.entries(since=at(16, 0), until=at(17, 0), limit=1000)) == 25
