"""The audit tables are migrated with Alembic: a new log starts at the newest
revision, and a log of the first release (one row per subtree hash) becomes tiles
that still verify against the checkpoints signed before the upgrade."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from alembic import command
from sqlalchemy import Engine, func, inspect, select, text

from audit import AuditError, AuditLog
from audit.entry import iso_ms, to_epoch_ms
from audit.merkle import (
    MemoryTree,
    inclusion_proof,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)
from audit.migrate import HEAD, _config, current_revision, head_revision
from audit.note import Checkpoint, open_checkpoint
from audit.subject_index import catch_up
from audit.tables import AuditTables, record_row
from audit.tiles import inner_nodes
from tests.audit.conftest import SIGNER
from tests.audit.records import T0, request


@pytest.fixture
def old_log(engine: Engine, prefix: str, tables: AuditTables) -> Iterator[None]:
    """The tables of the first release, empty, without a version table (the first
    release had none): the baseline revision's tables."""
    with engine.begin() as conn:
        command.upgrade(_config(conn, prefix), "a0001_baseline")
        conn.execute(text(f"DROP TABLE {tables.version.name}"))
    yield
    tables.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {prefix}_nodes"))


def write_first_release_log(engine: Engine, prefix: str, tables: AuditTables,
                            requests: int, signed_at: list[int]) -> dict[int, str]:
    """Fill the first release's tables as its append did: the records, every
    subtree hash as a row, the head with its frontier, and signed checkpoints at
    the sizes in ``signed_at``. Returns those checkpoints by size."""
    records = [r for n in range(1, requests + 1) for r in request(n, 9)]
    tree, notes = MemoryTree(), {}
    with engine.begin() as conn:
        conn.execute(tables.head.insert().values(id=1, size=0, root_hash="",
                                                 frontier="", pruned=0))
        for index, record in enumerate(records):
            conn.execute(tables.of(type(record)).insert().values(
                idx=index, **record_row(record)))
            tree.append([leaf_hash(record.canonical_bytes())])
            if tree.size in signed_at:
                note = SIGNER.sign(Checkpoint(SIGNER.verifier.name, tree.size,
                                              tree.root()).text()
                                   + f"timestamp {iso_ms(T0)}\n")
                conn.execute(tables.checkpoints.insert().values(
                    size=tree.size, root_hash=tree.root().hex(), note=note,
                    signed_at_ms=to_epoch_ms(T0)))
                notes[tree.size] = note
        conn.execute(text(f"INSERT INTO {prefix}_nodes (level, position, hash) "
                          "VALUES (:level, :position, :hash)"), [
            {"level": level, "position": position, "hash": node}
            for level, hashes in enumerate(tree.levels)
            for position, node in enumerate(hashes)])
        conn.execute(tables.head.update().values(
            size=tree.size, root_hash=tree.root().hex(),
            frontier="".join(h.hex() for h in tree.frontier)))
    return notes


@contextmanager
def appending_as_before_tile_nodes(log: AuditLog) -> Iterator[None]:
    """This release's append on the tables of a revision before a0007, whose
    tiles have no column for node hashes: the tiles written as the earlier
    release wrote them (its statement), the rest as this release does."""
    mark = "?" if log.engine.dialect.paramstyle == "qmark" else "%s"
    name = log.tables.tiles.name

    def write_tiles(raw, changed, _size, _grown) -> None:
        cursor = raw.cursor()
        try:
            cursor.executemany(
                f"INSERT INTO {name} (level, number, hashes) VALUES ({mark}, {mark}, "
                f"{mark}) ON CONFLICT (level, number) DO UPDATE SET hashes = "
                "excluded.hashes", [(lv, n, data) for (lv, n), data in changed.items()])
        finally:
            cursor.close()

    log._write_tiles = write_tiles
    try:
        yield
    finally:
        del log._write_tiles


def nodes_rows(engine: Engine, prefix: str) -> list[tuple[int, int, bytes]]:
    with engine.connect() as conn:
        return [(lv, pos, bytes(h)) for lv, pos, h in conn.execute(text(
            f"SELECT level, position, hash FROM {prefix}_nodes "
            "ORDER BY level, position"))]


def test_a_new_log_starts_at_the_newest_revision_with_tiles(engine, prefix, tables):
    log = AuditLog(engine, prefix=prefix, signer=SIGNER)
    try:
        log.create_tables()
        log.create_tables()  # again: nothing to do
        with engine.connect() as conn:
            assert current_revision(conn, prefix) == head_revision() == HEAD
            found = inspect(conn)
            assert found.has_table(tables.tiles.name)
            assert not found.has_table(f"{prefix}_nodes")
    finally:
        tables.metadata.drop_all(engine)


def test_a_first_release_log_becomes_tiles_and_still_verifies_against_old_checkpoints(
        engine, prefix, tables, old_log):
    notes = write_first_release_log(engine, prefix, tables, 70, [300, 600])
    log = AuditLog(engine, prefix=prefix, signer=SIGNER)
    log.create_tables()
    with engine.connect() as conn:
        assert current_revision(conn, prefix) == HEAD
        assert not inspect(conn).has_table(f"{prefix}_nodes")
        levels = conn.execute(select(tables.tiles.c.level, tables.tiles.c.number)
                              .order_by(tables.tiles.c.level, tables.tiles.c.number)
                              ).all()
    assert [tuple(r) for r in levels] == [(0, 0), (0, 1), (0, 2), (1, 0)]

    report = log.verify(checkpoint=notes[300])
    assert report.ok and report.size == 700 and report.checkpoints == 2
    old = open_checkpoint(notes[300], SIGNER.verifier)
    for index in (0, 255, 256, 299):
        record = log.record_at(index)
        assert record is not None
        verify_inclusion(index, 300, leaf_hash(record.canonical_bytes()),
                         log.inclusion(index, 300).hashes, old.root)

    log.append(request(71, 20))
    new = open_checkpoint(log.checkpoint(T0), SIGNER.verifier)
    assert new.size == 721
    verify_consistency(300, 721, old.root, new.root, log.consistency(300, 721).hashes)
    assert log.verify(checkpoint=notes[600]).ok


def test_the_tiles_downgrade_gives_back_every_subtree_hash_row(
        engine, prefix, tables, old_log):
    write_first_release_log(engine, prefix, tables, 60, [])
    before = nodes_rows(engine, prefix)
    AuditLog(engine, prefix=prefix).create_tables()
    with engine.begin() as conn:
        command.downgrade(_config(conn, prefix), "a0001_baseline")
    assert nodes_rows(engine, prefix) == before


def test_a_first_release_log_with_a_missing_hash_is_not_converted(
        engine, prefix, tables, old_log):
    write_first_release_log(engine, prefix, tables, 30, [])
    with engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {prefix}_nodes WHERE level = 0 "
                          "AND position = 17"))
    before = nodes_rows(engine, prefix)
    with pytest.raises(AuditError, match="gap"):
        AuditLog(engine, prefix=prefix).create_tables()
    with engine.connect() as conn:
        assert current_revision(conn, prefix) is None
        assert not inspect(conn).has_table(tables.tiles.name)
    assert nodes_rows(engine, prefix) == before


def test_head_names_the_newest_revision():
    assert HEAD == head_revision()


def index_columns(engine: Engine, table: str) -> dict[str, list[str]]:
    with engine.connect() as conn:
        indexes = inspect(conn).get_indexes(table)
    return {ix["name"]: ix["column_names"] for ix in indexes}


def test_the_entries_trace_index_is_narrowed_keeping_every_record_and_proof(
        engine, prefix, tables):
    # A log at the tiles revision, as it was before: its entries' trace index
    # held span_id too.
    with engine.begin() as conn:
        command.upgrade(_config(conn, prefix), "a0002_tiles")
    trace = f"ix_{prefix}_entries_trace"
    try:
        assert index_columns(engine, tables.entries.name)[trace] == [
            "trace_id", "span_id"]
        log = AuditLog(engine, prefix=prefix, signer=SIGNER)
        with engine.begin() as conn:  # the empty head, as create_tables wrote it
            conn.execute(tables.head.insert().values(
                id=1, size=0, root_hash=MemoryTree().root().hex(), frontier="",
                pruned=0))
        records = [r for n in range(1, 41) for r in request(n, 9)]
        with appending_as_before_tile_nodes(log):
            for n in range(40):
                log.append(records[n * 10:(n + 1) * 10])
        before = open_checkpoint(log.checkpoint(T0), SIGNER.verifier)
        with engine.connect() as conn:
            rows = {t.name: conn.execute(select(t).order_by(t.c.idx)).all()
                    for t in (tables.entries, tables.access)}

        log.create_tables()  # upgrades

        with engine.connect() as conn:
            assert current_revision(conn, prefix) == HEAD
            assert {t.name: conn.execute(select(t).order_by(t.c.idx)).all()
                    for t in (tables.entries, tables.access)} == rows
        # The narrowed index now lives behind the log (revision a0006), with
        # each entry's parent span (a0009).
        assert index_columns(engine, tables.keys.name)[
            f"ix_{tables.keys.name}_trace"] == ["trace_id", "parent_span_id"]
        # So does the access records' (revision a0007).
        assert index_columns(engine, tables.access_keys.name)[
            f"ix_{tables.access_keys.name}_trace"] == ["trace_id", "span_id"]
        assert log.verify(checkpoint=log.checkpoint(T0)).ok
        for index in (0, 17, 399):
            verify_inclusion(index, 400, leaf_hash(records[index].canonical_bytes()),
                             log.inclusion(index, 400).hashes, before.root)
        assert [r.index for r in log.entries(trace_id=records[30].trace_id)] == list(
            range(31, 40))
        shown = log.entries(requester=records[30].actor, limit=1000)  # apikey:1
        assert len(shown) == 9 * len([n for n in range(1, 41) if n % 3 == 1])

        with engine.begin() as conn:
            command.downgrade(_config(conn, prefix), "a0002_tiles")
        assert index_columns(engine, tables.entries.name)[trace] == [
            "trace_id", "span_id"]
    finally:
        tables.metadata.drop_all(engine)


def _thirty_appends_at_an_old_revision(engine: Engine, prefix: str,
                                       tables: AuditTables) -> tuple[AuditLog, list]:
    """A log at whatever revision the tables are, from its empty head (as
    create_tables wrote it) through thirty appends of five records."""
    log = AuditLog(engine, prefix=prefix, signer=SIGNER, subject_thread=False)
    with engine.begin() as conn:
        conn.execute(tables.head.insert().values(
            id=1, size=0, root_hash=MemoryTree().root().hex(), frontier="", pruned=0))
    records = [r for n in range(1, 31) for r in request(n, 4)]
    with appending_as_before_tile_nodes(log):
        for n in range(30):
            log.append(records[n * 5:(n + 1) * 5])
    return log, records


def test_the_subject_index_becomes_a_table_holding_every_entry(engine, prefix, tables):
    # A log at the narrowed trace index, its entries searched by a subject index.
    with engine.begin() as conn:
        command.upgrade(_config(conn, prefix), "a0003_entries_trace_id")
    subject_index = f"ix_{prefix}_entries_subject_time"
    try:
        assert index_columns(engine, tables.entries.name)[subject_index] == [
            "subject", "started_at_ms"]
        log, records = _thirty_appends_at_an_old_revision(engine, prefix, tables)
        with engine.connect() as conn:
            rows = conn.execute(select(tables.entries).order_by(
                tables.entries.c.idx)).all()

        log.create_tables()  # upgrades

        with engine.connect() as conn:
            assert current_revision(conn, prefix) == HEAD
            assert conn.execute(select(tables.entries).order_by(
                tables.entries.c.idx)).all() == rows
            s = tables.subjects
            assert conn.execute(select(s.c.subject, s.c.started_at_ms, s.c.idx)
                                .order_by(s.c.idx)).all() == [
                (r.subject, r.started_at_ms, r.idx) for r in rows]
            assert conn.execute(select(tables.subjects_mark.c.upto)).scalar() == 150
        assert subject_index not in index_columns(engine, tables.entries.name)
        expected = [i for i, r in enumerate(records)
                    if r.kind == "processing" and r.subject == "psn-3"]
        log.append(request(31, 4))  # after the mark: found in the log's tail
        expected += [151 + k for k in range(4) if (31 + k) % 5 == 3]
        assert [r.index for r in log.entries(subject="psn-3", limit=1000)] == expected
        assert log.verify(checkpoint=log.checkpoint(T0)).ok

        with engine.begin() as conn:
            command.downgrade(_config(conn, prefix), "a0003_entries_trace_id")
        assert index_columns(engine, tables.entries.name)[subject_index] == [
            "subject", "started_at_ms"]
        with engine.connect() as conn:
            assert not inspect(conn).has_table(tables.subjects.name)
    finally:
        tables.metadata.drop_all(engine)


def test_the_access_records_lose_their_organisation_and_time_indexes(
        engine, prefix, tables):
    # A log at the subjects table, its access records indexed by organisation
    # and by time as well.
    with engine.begin() as conn:
        command.upgrade(_config(conn, prefix), "a0004_subjects_table")
    dropped = {f"ix_{tables.access.name}_org_time": ["organisation", "occurred_at_ms"],
               f"ix_{tables.access.name}_time": ["occurred_at_ms"]}
    try:
        assert dropped.items() <= index_columns(engine, tables.access.name).items()
        log = AuditLog(engine, prefix=prefix, signer=SIGNER, subject_thread=False)
        with engine.begin() as conn:  # the empty head, as create_tables wrote it
            conn.execute(tables.head.insert().values(
                id=1, size=0, root_hash=MemoryTree().root().hex(), frontier="",
                pruned=0))
        with appending_as_before_tile_nodes(log):
            for n in range(1, 21):
                log.append(request(n, 3))
        saved = log.checkpoint(T0)
        with engine.connect() as conn:
            rows = {t.name: conn.execute(select(t).order_by(t.c.idx)).all()
                    for t in (tables.entries, tables.access)}

        log.create_tables()  # upgrades

        with engine.connect() as conn:
            assert current_revision(conn, prefix) == HEAD
            assert {t.name: conn.execute(select(t).order_by(t.c.idx)).all()
                    for t in (tables.entries, tables.access)} == rows
        # The other two moved behind the log later (revision a0007).
        assert index_columns(engine, tables.access.name) == {}
        assert index_columns(engine, tables.access_keys.name) == {
            f"ix_{tables.access_keys.name}_trace": ["trace_id", "span_id"],
            f"ix_{tables.access_keys.name}_actor_time": [
                "actor", "occurred_at_ms", "trace_id", "span_id"]}
        assert log.verify(checkpoint=saved).ok
        assert len(log.entries(requester="apikey:1", limit=1000)) == 3 * 7
        assert log.prune(T0 + timedelta(minutes=5), now=T0) == 16

        with engine.begin() as conn:
            command.downgrade(_config(conn, prefix), "a0004_subjects_table")
        assert dropped.items() <= index_columns(engine, tables.access.name).items()
    finally:
        tables.metadata.drop_all(engine)


def test_the_entries_indexes_become_a_table_written_behind_the_log(
        engine, prefix, tables):
    # A log at the access records' narrowed indexes: its entries searched by
    # organisation and time, time, and trace through indexes of their own, and
    # the subjects table behind the log part of the way.
    with engine.begin() as conn:
        command.upgrade(_config(conn, prefix), "a0005_access_indexes")
    moved = {f"ix_{tables.entries.name}_org_time": ["organisation", "started_at_ms"],
             f"ix_{tables.entries.name}_time": ["started_at_ms"],
             f"ix_{tables.entries.name}_trace": ["trace_id"]}
    try:
        assert index_columns(engine, tables.entries.name) == moved
        log, records = _thirty_appends_at_an_old_revision(engine, prefix, tables)
        with engine.begin() as conn:  # the subjects copied up to leaf 100
            e, s = tables.entries, tables.subjects
            conn.execute(s.insert().from_select(
                ["subject", "started_at_ms", "idx"],
                select(e.c.subject, e.c.started_at_ms, e.c.idx).where(e.c.idx < 100)))
            conn.execute(tables.subjects_mark.update().values(upto=100))
        saved = log.checkpoint(T0)
        with engine.connect() as conn:
            rows = {t.name: conn.execute(select(t).order_by(t.c.idx)).all()
                    for t in (tables.entries, tables.access, tables.subjects)}
        k = tables.keys

        log.create_tables()  # upgrades

        with engine.connect() as conn:
            assert current_revision(conn, prefix) == HEAD
            assert {t.name: conn.execute(select(t).order_by(t.c.idx)).all()
                    for t in (tables.entries, tables.access, tables.subjects)} == rows
            assert conn.execute(select(k).order_by(k.c.idx)).all() == [
                (r.idx, r.organisation, r.started_at_ms, r.trace_id,
                 r.parent_span_id)  # the parent span since a0009
                for r in rows[tables.entries.name] if r.idx < 100]
        assert index_columns(engine, tables.entries.name) == {}
        assert index_columns(engine, k.name) == {
            f"ix_{k.name}_{name}": columns for name, columns in (
                ("org_time", ["organisation", "started_at_ms"]),
                ("time", ["started_at_ms"]),
                ("trace", ["trace_id", "parent_span_id"]))}
        assert log.verify(checkpoint=saved).ok
        trace = records[140].trace_id  # after the mark: found in the log's tail
        assert [r.index for r in log.entries(trace_id=trace)] == [
            i for i, r in enumerate(records) if r.trace_id == trace
            and r.kind == "processing"]
        assert len(log.entries(organisation="GM0344", limit=1000)) == len(
            [r for r in records if r.kind == "processing"
             and r.organisation == "GM0344"])
        catch_up(engine, tables)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(k)).scalar() == 120

        with engine.begin() as conn:
            command.downgrade(_config(conn, prefix), "a0005_access_indexes")
        assert index_columns(engine, tables.entries.name) == moved
        with engine.connect() as conn:
            assert not inspect(conn).has_table(k.name)
    finally:
        tables.metadata.drop_all(engine)


def test_full_tiles_get_their_node_hashes_and_proofs_stay_the_same(
        engine, prefix, tables):
    # A log at the entries' keys table: its tiles hold hashes only.
    with engine.begin() as conn:
        command.upgrade(_config(conn, prefix), "a0006_entry_keys")
    try:
        assert "nodes" not in {c["name"] for c in inspect(engine).get_columns(
            tables.tiles.name)}
        log = AuditLog(engine, prefix=prefix, signer=SIGNER, subject_thread=False)
        with engine.begin() as conn:  # the empty head, as create_tables wrote it
            conn.execute(tables.head.insert().values(
                id=1, size=0, root_hash=MemoryTree().root().hex(), frontier="",
                pruned=0))
        records = [r for n in range(1, 105) for r in request(n, 4)]  # 520
        with appending_as_before_tile_nodes(log):
            for n in range(104):  # tiles 0/0 and 0/1 full, 0/2 partial
                log.append(records[n * 5:(n + 1) * 5])
        saved = log.checkpoint(T0)
        tree = MemoryTree()
        tree.append(leaf_hash(r.canonical_bytes()) for r in records)
        indices = (0, 255, 256, 300, 511, 519)

        log.create_tables()  # upgrades

        t = tables.tiles
        with engine.connect() as conn:
            assert current_revision(conn, prefix) == HEAD
            stored = {(lv, n): (bytes(h), nodes) for lv, n, h, nodes in conn.execute(
                select(t.c.level, t.c.number, t.c.hashes, t.c.nodes))}
        assert sorted(stored) == [(0, 0), (0, 1), (0, 2), (1, 0)]
        assert stored[(0, 0)][1] == inner_nodes(stored[(0, 0)][0])
        assert stored[(0, 1)][1] == inner_nodes(stored[(0, 1)][0])
        assert stored[(0, 2)][1] is None and stored[(1, 0)][1] is None
        assert log.verify(checkpoint=saved).ok
        fresh = AuditLog(engine, prefix=prefix, signer=SIGNER, subject_thread=False)
        for index in indices:
            assert fresh.inclusion(index, 520).hashes == inclusion_proof(
                index, 520, tree.node)

        with engine.begin() as conn:
            command.downgrade(_config(conn, prefix), "a0006_entry_keys")
        assert "nodes" not in {c["name"] for c in inspect(engine).get_columns(
            tables.tiles.name)}
    finally:
        tables.metadata.drop_all(engine)


def test_the_access_records_indexes_become_a_table_written_behind_the_log(
        engine, prefix, tables):
    # A log at the entries' keys table: its access records searched by trace
    # and span, and by actor and time, through indexes of their own, and the
    # tables behind the log written part of the way.
    with engine.begin() as conn:
        command.upgrade(_config(conn, prefix), "a0006_entry_keys")
    moved = {f"ix_{tables.access.name}_trace": ["trace_id", "span_id"],
             f"ix_{tables.access.name}_actor_time": ["actor", "occurred_at_ms"]}
    try:
        assert index_columns(engine, tables.access.name) == moved
        log, records = _thirty_appends_at_an_old_revision(engine, prefix, tables)
        with engine.begin() as conn:  # the entries' tables copied up to leaf 100
            e, s, k = tables.entries, tables.subjects, tables.keys
            conn.execute(s.insert().from_select(
                ["subject", "started_at_ms", "idx"],
                select(e.c.subject, e.c.started_at_ms, e.c.idx).where(e.c.idx < 100)))
            conn.execute(k.insert().from_select(
                ["idx", "organisation", "started_at_ms", "trace_id"],
                select(e.c.idx, e.c.organisation, e.c.started_at_ms, e.c.trace_id)
                .where(e.c.idx < 100)))
            conn.execute(tables.subjects_mark.update().values(upto=100))
        saved = log.checkpoint(T0)
        with engine.connect() as conn:
            rows = {t.name: conn.execute(before_a0009(t, tables)).all()
                    for t in (tables.entries, tables.access, tables.subjects,
                              tables.keys)}
        ak = tables.access_keys

        log.create_tables()  # upgrades

        with engine.connect() as conn:
            assert current_revision(conn, prefix) == HEAD
            assert {t.name: conn.execute(before_a0009(t, tables)).all()
                    for t in (tables.entries, tables.access, tables.subjects,
                              tables.keys)} == rows
            assert conn.execute(select(ak).order_by(ak.c.idx)).all() == [
                (r.idx, r.trace_id, r.span_id, r.actor, r.occurred_at_ms)
                for r in rows[tables.access.name] if r.idx < 100]
        assert index_columns(engine, tables.access.name) == {}
        assert index_columns(engine, ak.name) == {
            f"ix_{ak.name}_{name}": columns for name, columns in (
                ("trace", ["trace_id", "span_id"]),
                ("actor_time", ["actor", "occurred_at_ms", "trace_id",
                                "span_id"]))}
        assert log.verify(checkpoint=saved).ok
        # Every entry still shows its access record, before and after the mark.
        assert [(r.index, r.access) for r in log.entries(limit=1000)] == [
            (i, records[i - i % 5]) for i, r in enumerate(records)
            if r.kind == "processing"]
        for actor in ("apikey:0", "apikey:1", "apikey:2"):
            assert [r.index for r in log.entries(requester=actor, limit=1000)] == [
                i for i, r in enumerate(records) if r.kind == "processing"
                and records[i - i % 5].actor == actor]
        catch_up(engine, tables)
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(ak)).scalar() == 30

        with engine.begin() as conn:
            command.downgrade(_config(conn, prefix), "a0006_entry_keys")
        assert index_columns(engine, tables.access.name) == moved
        with engine.connect() as conn:
            assert not inspect(conn).has_table(ak.name)
    finally:
        tables.metadata.drop_all(engine)


def before_a0009(table, tables: AuditTables):
    """The rows of ``table`` in the columns it had before revision a0009 (which
    added the entries' parent span to their keys)."""
    if table is tables.keys:
        return select(*(table.c[name] for name in (
            "idx", "organisation", "started_at_ms", "trace_id"))).order_by(
            table.c.idx)
    return select(table).order_by(table.c.idx)


def test_the_entries_keys_get_each_entrys_parent_span_and_pages_stay_the_same(
        engine, prefix, tables):
    # A log at the access records' keys table: the entries' keys hold their
    # organisation, time and trace, written behind the log part of the way.
    with engine.begin() as conn:
        command.upgrade(_config(conn, prefix), "a0008_access_keys")
    k, e = tables.keys, tables.entries
    try:
        assert "parent_span_id" not in {
            c["name"] for c in inspect(engine).get_columns(k.name)}
        log, records = _thirty_appends_at_an_old_revision(engine, prefix, tables)
        with engine.begin() as conn:  # the tables behind the log up to leaf 100
            conn.execute(tables.subjects.insert().from_select(
                ["subject", "started_at_ms", "idx"],
                select(e.c.subject, e.c.started_at_ms, e.c.idx).where(e.c.idx < 100)))
            conn.execute(text(
                f"INSERT INTO {k.name} (idx, organisation, started_at_ms, trace_id) "
                f"SELECT idx, organisation, started_at_ms, trace_id FROM {e.name} "
                "WHERE idx < 100"))
            a = tables.access
            conn.execute(tables.access_keys.insert().from_select(
                ["idx", "trace_id", "span_id", "actor", "occurred_at_ms"],
                select(a.c.idx, a.c.trace_id, a.c.span_id, a.c.actor,
                       a.c.occurred_at_ms).where(a.c.idx < 100)))
            conn.execute(tables.subjects_mark.update().values(upto=100))
        saved = log.checkpoint(T0)
        records_tables = (e, tables.access, tables.subjects, tables.access_keys)
        with engine.connect() as conn:
            rows = {t.name: conn.execute(select(t).order_by(t.c.idx)).all()
                    for t in records_tables}
        requested = {actor: [i for i, r in enumerate(records)
                             if r.kind == "processing"
                             and records[i - i % 5].actor == actor]
                     for actor in ("apikey:0", "apikey:1", "apikey:2")}

        log.create_tables()  # upgrades

        with engine.connect() as conn:
            assert current_revision(conn, prefix) == HEAD
            assert {t.name: conn.execute(select(t).order_by(t.c.idx)).all()
                    for t in records_tables} == rows
            assert conn.execute(select(k).order_by(k.c.idx)).all() == [
                (r.idx, r.organisation, r.started_at_ms, r.trace_id, r.parent_span_id)
                for r in rows[e.name] if r.idx < 100]
        assert index_columns(engine, k.name)[f"ix_{k.name}_trace"] == [
            "trace_id", "parent_span_id"]
        assert log.verify(checkpoint=saved).ok
        for actor, indices in requested.items():  # before and after the mark
            assert [r.index for r in log.entries(requester=actor, limit=1000)] == (
                indices)
            assert [r.index for r in log.entries(requester=actor, limit=2,
                                                 after=indices[0])] == indices[1:3]
        catch_up(engine, tables)
        with engine.connect() as conn:
            assert conn.execute(select(k.c.idx, k.c.parent_span_id).order_by(
                k.c.idx)).all() == [(r.idx, r.parent_span_id) for r in rows[e.name]]

        with engine.begin() as conn:
            command.downgrade(_config(conn, prefix), "a0008_access_keys")
        assert index_columns(engine, k.name)[f"ix_{k.name}_trace"] == ["trace_id"]
        with engine.connect() as conn:
            assert [tuple(r) for r in conn.execute(text(
                f"SELECT * FROM {k.name} ORDER BY idx"))] == [
                (r.idx, r.organisation, r.started_at_ms, r.trace_id)
                for r in rows[e.name]]
    finally:
        tables.metadata.drop_all(engine)
