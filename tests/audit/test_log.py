"""The audit log appends durably, answers DPO queries, and detects tampering.

Every test runs on SQLite and, with VG_TEST_POSTGRES_URL set, on PostgreSQL
(fixtures in conftest.py). Tampering is done the way an intruder with database access
would do it: raw SQL against the tables.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url

from audit import (
    AuditAppendFailed,
    AuditEntry,
    AuditError,
    AuditLog,
    AuditUnavailable,
    Head,
    InvalidAuditEntry,
    InvalidAuditQuery,
    make_engine,
)
from audit.log import ZERO_HASH, chain_hash
from audit.tables import entry_row

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def entry(n: int = 1, **changes: object) -> AuditEntry:
    values: dict[str, object] = dict(
        trace_id=f"{n:08x}4bf92f3577b34da6a3ce929d",
        span_id=f"{n:016x}",
        occurred_at=T0 + timedelta(minutes=n),
        processing_activity="vg:matching",
        actor=f"apikey-{n % 3}",
        organisation=("GM0344", "GM0363")[n % 2],
        purpose=("matching", "contact")[n % 3 == 0],
        subject=f"psn-{n % 5}",
        fields=("skills", "level"),
        grants=(f"grant-{n}",),
        outcome=("disclosed", "refused")[n % 4 == 0],
        reason="a live grant covers the fields",
    )
    values.update(changes)
    return AuditEntry(**values)  # type: ignore[arg-type]


def run_sql(engine: Engine, *statements: str) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def filled(log: AuditLog, size: int = 5) -> list[AuditEntry]:
    batch = [entry(n) for n in range(1, size + 1)]
    assert log.append(batch) == list(range(1, size + 1))
    return batch


def assert_fails_at(log: AuditLog, seq: int | None, **kwargs: object) -> None:
    report = log.verify(**kwargs)  # type: ignore[arg-type]
    assert not report.ok, report
    assert report.first_bad_seq == seq, report
    assert report.problem
    if seq is not None:
        assert report.size == seq - 1


# --- the entry and its canonical bytes ---------------------------------------------


def test_canonical_bytes_are_sorted_compact_utf8_json_with_millisecond_z_times():
    e = entry(
        1,
        occurred_at=datetime(
            2026, 3, 1, 10, 30, 0, 125999, tzinfo=timezone(timedelta(hours=1))
        ),
        reason="toestemming geldig",
        fields=["skills", "level"],
        grants=["g2", "g1"],
    )
    assert e.canonical_bytes() == (
        b'{"actor":"apikey-1","fields":["level","skills"],"grants":["g1","g2"],'
        b'"occurred_at":"2026-03-01T09:30:00.125Z","organisation":"GM0363",'
        b'"outcome":"disclosed","processing_activity":"vg:matching",'
        b'"purpose":"matching","reason":"toestemming geldig",'
        b'"span_id":"0000000000000001","subject":"psn-1",'
        b'"trace_id":"000000014bf92f3577b34da6a3ce929d"}'
    )
    assert entry(1, reason="één").canonical_bytes().count("één".encode()) == 1


def test_entry_normalises_time_to_utc_milliseconds_and_keys_to_sorted_tuples():
    e = entry(
        occurred_at=datetime(
            2026, 1, 1, 1, 0, 0, 999999, tzinfo=timezone(timedelta(hours=1))
        ),
        fields=["b", "a", "b"],
        grants=iter(["g"]),
    )
    assert e.occurred_at == datetime(2026, 1, 1, 0, 0, 0, 999000, tzinfo=timezone.utc)
    assert e.occurred_at.tzinfo is timezone.utc
    assert (e.fields, e.grants) == (("a", "b"), ("g",))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("trace_id", "0" * 32),
        ("trace_id", "4BF92F3577B34DA6A3CE929D0E0E4736"),
        ("trace_id", "abc"),
        ("span_id", "0" * 16),
        ("span_id", "00f067aa0ba902b"),
        ("occurred_at", datetime(2026, 1, 1)),
        ("occurred_at", "2026-01-01T00:00:00Z"),
        ("actor", ""),
        ("subject", None),
        ("reason", "nul\x00byte"),
        ("purpose", "lone \udc80 surrogate"),
        ("fields", "skills"),
        ("grants", ["ok", ""]),
        ("outcome", "maybe"),
    ],
)
def test_an_invalid_entry_is_refused_naming_the_field(field, value):
    with pytest.raises(InvalidAuditEntry) as caught:
        entry(**{field: value})
    assert caught.value.field == field
    assert (caught.value.status, caught.value.code) == (500, "invalid-audit-entry")


# --- append and verify -------------------------------------------------------------


def test_appended_entries_get_contiguous_seqs_and_the_log_verifies(log):
    assert log.verify().ok and log.head() == Head(0, ZERO_HASH.hex())
    assert log.append([entry(1)]) == [1]
    assert log.append([entry(2), entry(3)]) == [2, 3]
    assert log.append([]) == []
    report = log.verify()
    assert report.ok and report.first_bad_seq is None and report.problem is None
    assert (report.size, report.head_hash) == tuple(log.head())
    assert log.count() == 3


def test_the_chain_follows_the_documented_formula(log):
    batch = filled(log, 3)
    h = bytes(32)
    for e in batch:
        leaf = hashlib.sha256(e.canonical_bytes()).digest()
        h = hashlib.sha256(b"vg-audit-v1\x00" + h + leaf).digest()
    assert log.head() == Head(3, h.hex())
    assert log.entries()[-1].entry_hash == h.hex()


def test_stored_records_give_back_the_appended_entries(log):
    batch = filled(log, 4)
    records = log.entries()
    assert [r.entry for r in records] == batch
    assert [r.seq for r in records] == [1, 2, 3, 4]


texts = st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    min_size=1,
    max_size=30,
)
entries_strategy = st.builds(
    AuditEntry,
    trace_id=st.text("0123456789abcdef", min_size=32, max_size=32).filter(
        lambda s: s != "0" * 32
    ),
    span_id=st.text("0123456789abcdef", min_size=16, max_size=16).filter(
        lambda s: s != "0" * 16
    ),
    occurred_at=st.datetimes(
        min_value=datetime(1900, 1, 2),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from(
            [
                timezone.utc,
                timezone(timedelta(hours=14)),
                timezone(-timedelta(hours=9, minutes=30)),
            ]
        ),
    ),
    processing_activity=texts,
    actor=texts,
    organisation=texts,
    purpose=texts,
    subject=texts,
    reason=texts,
    fields=st.lists(texts, max_size=4),
    grants=st.lists(texts, max_size=3),
    outcome=st.sampled_from(["disclosed", "refused"]),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(e=entries_strategy)
def test_any_valid_entry_survives_storage_unchanged_and_verifies(log, e):
    (seq,) = log.append([e])
    (record,) = log.entries(offset=seq - 1, limit=1)
    assert record.entry == e
    assert record.entry.canonical_bytes() == e.canonical_bytes()
    assert json.loads(e.canonical_bytes())["subject"] == e.subject
    assert log.verify().ok


# --- tampering ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "assignment",
    [
        "trace_id = 'ffffffffffffffffffffffffffffffff'",
        "span_id = 'ffffffffffffffff'",
        "occurred_at_ms = occurred_at_ms + 1",
        "processing_activity = 'vg:contact'",
        "actor = 'apikey-9'",
        "organisation = 'GM0599'",
        "purpose = 'teamwork'",
        "subject = 'psn-9'",
        'fields = \'["contact","level","skills"]\'',
        "grants = '[\"grant-forged\"]'",
        "outcome = 'refused'",
        "reason = 'nothing to see'",
        "entry_hash = '" + "ab" * 32 + "'",
        # Same meaning, other bytes: not how append writes, so not written by append.
        'fields = \'["skills","level"]\'',
        'fields = \'["level", "skills"]\'',
        "trace_id = '000000034BF92F3577B34DA6A3CE929D'",
        "outcome = 'bogus'",
        "fields = 'not json'",
    ],
)
def test_changing_any_column_of_a_past_entry_is_detected_at_its_seq(
    log, engine, tables, assignment
):
    filled(log, 5)
    run_sql(engine, f"UPDATE {tables.entries.name} SET {assignment} WHERE seq = 3")
    assert_fails_at(log, 3)
    assert "entry 3" in (log.verify().problem or "")


def test_a_changed_entry_is_refused_when_read_back(log, engine, tables):
    filled(log, 2)
    run_sql(engine, f"UPDATE {tables.entries.name} SET outcome = 'x' WHERE seq = 2")
    with pytest.raises(AuditError, match="entry 2"):
        log.entries()


@pytest.mark.parametrize(
    ("seq", "problem"), [(1, "missing"), (3, "missing"), (5, "head")]
)
def test_deleting_an_entry_is_detected(log, engine, tables, seq, problem):
    filled(log, 5)
    run_sql(engine, f"DELETE FROM {tables.entries.name} WHERE seq = {seq}")
    assert_fails_at(log, seq)
    assert problem in (log.verify().problem or "")


@pytest.mark.parametrize("renumber", ["seq = seq + 10", "seq = 50 WHERE seq = 5"])
def test_renumbering_entries_in_order_is_detected(log, engine, tables, renumber):
    filled(log, 5)
    run_sql(engine, f"UPDATE {tables.entries.name} SET {renumber}")
    assert not log.verify().ok
    assert "missing" in (log.verify().problem or "")


def test_inserting_a_forged_entry_in_the_middle_is_detected(log, engine, tables):
    filled(log, 5)
    name = tables.entries.name
    run_sql(
        engine,  # make room at seq 3 (two steps: seq is unique at every row)
        f"UPDATE {name} SET seq = -seq - 1 WHERE seq >= 3",
        f"UPDATE {name} SET seq = -seq WHERE seq < 0",
        f"UPDATE {tables.head.name} SET size = 6",
    )
    forged = entry(99, actor="intruder")
    forged_hash = chain_hash(bytes.fromhex(log.entries()[1].entry_hash), forged)
    with engine.begin() as conn:  # a forged row that is perfect for its own place
        conn.execute(
            tables.entries.insert().values(
                seq=3, entry_hash=forged_hash.hex(), **entry_row(forged)
            )
        )
    assert_fails_at(log, 4)


def test_swapping_two_entries_is_detected(log, engine, tables):
    filled(log, 5)
    name = tables.entries.name
    run_sql(
        engine,
        f"UPDATE {name} SET seq = -2 WHERE seq = 2",
        f"UPDATE {name} SET seq = 2 WHERE seq = 4",
        f"UPDATE {name} SET seq = 4 WHERE seq = -2",
    )
    assert_fails_at(log, 2)


@pytest.mark.parametrize(
    "assignment",
    ["size = size + 1", "size = size - 1", "head_hash = '" + "0" * 64 + "'"],
)
def test_tampering_with_the_head_row_is_detected(log, engine, tables, assignment):
    filled(log, 5)
    run_sql(engine, f"UPDATE {tables.head.name} SET {assignment}")
    assert not log.verify().ok


def test_a_rollback_with_a_fixed_up_head_is_caught_by_a_saved_head(log, engine, tables):
    filled(log, 5)
    log.append([entry(6), entry(7), entry(8)])
    saved = log.head()
    h5 = log.entries()[4].entry_hash
    run_sql(
        engine,
        f"DELETE FROM {tables.entries.name} WHERE seq > 5",
        f"UPDATE {tables.head.name} SET size = 5, head_hash = '{h5}'",
    )
    assert log.verify().ok  # consistent on its own: only a saved head can tell
    assert_fails_at(log, 6, expected_head=saved)
    assert "rolled back" in (log.verify(saved).problem or "")


def test_rewriting_history_with_fresh_hashes_is_caught_by_a_saved_head(
    log, engine, tables
):
    filled(log, 5)
    saved = log.head()
    log.append([entry(6), entry(7)])
    rewritten = [r.entry for r in log.entries()]
    rewritten[1] = entry(2, actor="someone-else")
    h = ZERO_HASH
    with engine.begin() as conn:
        for seq, e in enumerate(rewritten, start=1):
            h = chain_hash(h, e)
            conn.execute(
                tables.entries.update()
                .where(tables.entries.c.seq == seq)
                .values(entry_hash=h.hex(), **entry_row(e))
            )
        conn.execute(tables.head.update().values(head_hash=h.hex()))
    assert log.verify().ok  # a keyless chain can be recomputed by anyone ...
    report = log.verify(expected_head=saved)  # ... but not to match a saved head
    assert not report.ok and "rewritten" in (report.problem or "")


def test_the_current_and_earlier_heads_verify(log):
    filled(log, 3)
    early = log.head()
    log.append([entry(4)])
    assert log.verify(expected_head=early).ok
    assert log.verify(expected_head=log.head()).ok
    assert log.verify(expected_head=(0, ZERO_HASH.hex())).ok
    assert not log.verify(expected_head=(3, "ab" * 32)).ok


@pytest.mark.parametrize(
    "expected", [(1,), (-1, "00" * 32), (1, "xyz"), (1, "AB" * 32), ("1", "00" * 32)]
)
def test_verify_refuses_a_malformed_expected_head(log, expected):
    with pytest.raises(InvalidAuditQuery) as caught:
        log.verify(expected_head=expected)
    assert caught.value.parameter == "expected_head"


# --- failing appends (invariant 4: fail closed, nothing half-written) --------------


def _fail_on(engine: Engine, table: str, verb: str, nth: int):
    calls = []

    def before_execute(conn, cursor, statement, params, context, executemany):
        if statement.startswith(verb) and table in statement.split("(")[0]:
            calls.append(statement)
            if len(calls) == nth:
                raise OSError("disk full (simulated)")

    return before_execute


@pytest.mark.parametrize("where", ["insert", "head update", "commit"])
def test_a_failure_inside_the_append_writes_nothing(log, engine, tables, where):
    filled(log, 5)
    before = log.head()
    if where == "commit":

        def hook(conn):
            raise OSError("disk full (simulated)")

        name = "commit"
    else:
        table = tables.entries.name if where == "insert" else tables.head.name
        verb, nth = ("INSERT", 1) if where == "insert" else ("UPDATE", 2)
        hook, name = _fail_on(engine, table, verb, nth), "before_cursor_execute"
    event.listen(engine, name, hook)
    try:
        with pytest.raises(AuditAppendFailed) as caught:
            log.append([entry(6), entry(7)])
    finally:
        event.remove(engine, name, hook)
    assert (caught.value.status, caught.value.code) == (503, "audit-unavailable")
    assert isinstance(caught.value.__cause__, OSError)
    assert log.head() == before and log.count() == 5 and log.verify().ok
    assert log.append([entry(6)]) == [6]  # no lock or half transaction left behind


def _read_only_url(db_url: str) -> str:
    if db_url.startswith("sqlite"):
        return f"sqlite:///file:{db_url.removeprefix('sqlite:///')}?mode=ro&uri=true"
    url = make_url(db_url)
    options = url.query.get("options", "") + " -c default_transaction_read_only=on"
    return url.update_query_dict({"options": options.strip()}).render_as_string(
        hide_password=False
    )


def test_an_append_to_a_read_only_database_fails_and_changes_nothing(
    log, db_url, prefix
):
    filled(log, 3)
    before = log.head()
    read_only = make_engine(_read_only_url(db_url))
    try:
        with pytest.raises(AuditAppendFailed) as caught:
            AuditLog(read_only, prefix=prefix).append([entry(4)])
    finally:
        read_only.dispose()
    assert "read" in str(caught.value.__cause__).lower()  # read-only, not missing
    assert log.head() == before and log.verify().ok


def test_an_append_to_missing_tables_fails(engine, prefix):
    with pytest.raises(AuditAppendFailed):
        AuditLog(engine, prefix=prefix + "_gone").append([entry(1)])


def test_an_unreachable_database_fails_appends_and_reads(backend, tmp_path):
    url = (
        f"sqlite:///{tmp_path}/no/such/dir/audit.db"
        if backend == "sqlite"
        else "postgresql+psycopg://postgres@127.0.0.1:1/test"
    )
    unreachable = AuditLog(make_engine(url))
    with pytest.raises(AuditAppendFailed):
        unreachable.append([entry(1)])
    with pytest.raises(AuditUnavailable):
        unreachable.head()


def test_append_refuses_anything_but_entries(log):
    with pytest.raises(InvalidAuditEntry):
        log.append([entry(1), {"actor": "x"}])  # type: ignore[list-item]
    assert log.count() == 0


# --- concurrency -------------------------------------------------------------------


def _append_batches(log: AuditLog, worker: int, start: threading.Barrier) -> list:
    start.wait()
    return [
        log.append([entry(worker * 1000 + i * 3 + k + 1) for k in range(3)])
        for i in range(20)
    ]


def test_four_threads_appending_at_once_keep_seqs_contiguous_and_the_chain_valid(log):
    start = threading.Barrier(5)
    with ThreadPoolExecutor(5) as pool:
        workers = [pool.submit(_append_batches, log, w, start) for w in range(4)]
        start.wait()
        verifies = [log.verify() for _ in range(5)]  # while the appends run
        batches = [batch for w in workers for batch in w.result()]
    assert all(b == list(range(b[0], b[0] + 3)) for b in batches)
    assert sorted(s for b in batches for s in b) == list(range(1, 241))
    assert all(report.ok for report in verifies), verifies
    assert log.verify().ok and log.head().size == 240


_WORKER = """
import sys
from datetime import datetime, timezone
from audit import AuditEntry, AuditLog, make_engine
url, prefix, worker = sys.argv[1], sys.argv[2], int(sys.argv[3])
log = AuditLog(make_engine(url), prefix=prefix)
print("ready", flush=True)
sys.stdin.readline()
for i in range(50):
    batch = [AuditEntry(
        trace_id=f"{worker:04x}{i:04x}{k:024x}", span_id=f"{k + 1:016x}",
        occurred_at=datetime.now(timezone.utc), processing_activity="vg:matching",
        actor=f"process-{worker}", organisation="GM0363", purpose="matching",
        subject="psn-1", fields=("skills",), grants=(), outcome="disclosed",
        reason="concurrency test") for k in range(2)]
    print(*log.append(batch), flush=True)
"""


def test_two_processes_appending_at_once_keep_seqs_contiguous_and_the_chain_valid(
    log, db_url, prefix
):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, db_url, prefix, str(w)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for w in (1, 2)
    ]
    for proc in procs:
        assert proc.stdout and proc.stdout.readline().strip() == "ready"
    for proc in procs:  # both are connected and waiting: start them together
        assert proc.stdin
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0]
    batches = [
        [int(s) for s in line.split()] for out in outputs for line in out.splitlines()
    ]
    assert all(b == [b[0], b[0] + 1] for b in batches)
    assert sorted(s for b in batches for s in b) == list(range(1, 201))
    assert log.verify().ok


# --- queries -----------------------------------------------------------------------


def test_entries_filter_by_organisation_subject_purpose_outcome_and_time(log):
    batch = filled(log, 12)

    def expect(keep) -> list[int]:
        return [seq for seq, e in enumerate(batch, start=1) if keep(e)]

    def seqs(**filters) -> list[int]:
        return [r.seq for r in log.entries(**filters)]

    assert seqs(organisation="GM0363") == expect(lambda e: e.organisation == "GM0363")
    assert seqs(subject="psn-2") == expect(lambda e: e.subject == "psn-2")
    assert seqs(purpose="contact") == expect(lambda e: e.purpose == "contact")
    assert seqs(outcome="refused") == expect(lambda e: e.outcome == "refused")
    assert seqs(trace_id=batch[6].trace_id) == [7]
    assert seqs(processing_activity="vg:other") == []
    assert seqs(organisation="GM0363", outcome="refused") == expect(
        lambda e: e.organisation == "GM0363" and e.outcome == "refused"
    )
    assert seqs(since=T0 + timedelta(minutes=3), until=T0 + timedelta(minutes=6)) == [
        3,
        4,
        5,
    ]
    # Bounds finer than the stored milliseconds keep [since, until) exact.
    tick = timedelta(microseconds=1)
    assert seqs(
        since=T0 + timedelta(minutes=3) + tick, until=T0 + timedelta(minutes=6) + tick
    ) == [4, 5, 6]
    assert seqs(limit=3, offset=2) == [3, 4, 5]
    assert log.count() == 12
    assert log.count(outcome="refused") == len(expect(lambda e: e.outcome == "refused"))


@pytest.mark.parametrize(
    ("filters", "parameter"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": True}, "limit"),
        ({"offset": -1}, "offset"),
        ({"outcome": "maybe"}, "outcome"),
        ({"organisation": ""}, "organisation"),
        ({"subject": 7}, "subject"),
        ({"since": datetime(2026, 1, 1)}, "since"),
        ({"until": "2026-01-01T00:00:00Z"}, "until"),
    ],
)
def test_an_invalid_query_is_a_400_naming_the_parameter(log, filters, parameter):
    with pytest.raises(InvalidAuditQuery) as caught:
        log.entries(**filters)
    assert caught.value.parameter == parameter
    assert (caught.value.status, caught.value.code) == (400, "invalid-audit-query")


def test_count_refuses_an_unknown_filter(log):
    with pytest.raises(InvalidAuditQuery) as caught:
        log.count(colour="blue")
    assert caught.value.parameter == "colour"


# --- the engine --------------------------------------------------------------------


def test_make_engine_puts_sqlite_in_wal_mode_with_full_sync_and_a_busy_timeout(
    tmp_path,
):
    engine = make_engine(f"sqlite:///{tmp_path / 'a.db'}")
    with engine.connect() as conn:
        pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa
        assert (pragma("journal_mode"), pragma("synchronous")) == ("wal", 2)
        assert pragma("busy_timeout") == 5000
    engine.dispose()


def test_make_engine_refuses_an_in_memory_sqlite_database():
    with pytest.raises(AuditError):
        make_engine("sqlite://")
