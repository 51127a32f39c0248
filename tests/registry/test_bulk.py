"""Bulk ingest keeps every rule of the one-by-one path: signatures verified, replays
and withdrawn grants refused by position, and the stored result the same."""

from __future__ import annotations

import json
import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError

from registry import bulk, bulk_rows
from registry.errors import StorageFailed
from tests.factories import (
    NOW,
    disclosure,
    disclosure_rows,
    forget_holders,
    full_workcontext,
    holder_key,
    registry_snapshot,
    signed_grant,
    withdrawal,
)


def documents():
    out = []
    for n in range(6):
        key = holder_key(n)
        out.append(disclosure(key, signed_grant(key, ["skills", "level"]), 1))
        out.append(disclosure(key, signed_grant(key, ["hours_per_week"]), 2))
    return out


def test_bulk_ingest_stores_every_disclosure_with_its_child_rows(system):
    docs = documents()

    result = system.registry.bulk.disclosures([json.dumps(d) for d in docs], NOW)

    rows = registry_snapshot(system.registry.engine)
    assert result.accepted == len(docs) and result.refused == []
    assert len(rows["disclosure"]) == 12 and len(rows["holder"]) == 6
    assert len(rows["disclosure_skill"]) == 6 * 3  # the first grant's three skills
    assert len(rows["disclosure_purpose"]) == 12


def test_a_forged_document_is_refused_by_position_and_the_rest_is_stored(system):
    docs = documents()
    docs[3]["workcontext"]["availability"] = {"hoursPerWeek": 40}  # signature breaks

    result = system.registry.bulk.disclosures([json.dumps(d) for d in docs], NOW)

    assert result.refused == [(3, "invalid-signature")]
    assert result.accepted == len(docs) - 1


def test_batches_grow_from_the_first_size_to_the_most_in_the_order_given():
    sizes = [len(b) for b in bulk._batches(iter(range(30)), 2, 8)]

    assert sizes == [2, 4, 8, 8, 8]
    assert [i for b in bulk._batches(iter(range(30)), 2, 8) for i in b] == list(
        range(30))


def test_documents_in_batches_of_growing_size_are_refused_by_their_position(
        system, monkeypatch):
    monkeypatch.setattr(bulk, "FIRST", 1)
    monkeypatch.setattr(bulk, "BATCH", 4)
    docs = documents()  # in batches of 1, 2, 4 and 4 documents
    for position in (0, 2, 9):
        docs[position]["workcontext"]["availability"] = {"hoursPerWeek": 40}

    result = system.registry.bulk.disclosures([json.dumps(d) for d in docs], NOW)

    assert sorted(result.refused) == [(0, "invalid-signature"),
                                      (2, "invalid-signature"),
                                      (9, "invalid-signature")]
    assert result.accepted == len(docs) - 3
    assert len(registry_snapshot(system.registry.engine)["disclosure"]) == 9


def _broken_grant_proof(key) -> dict:
    """A disclosure ``key`` signed over its grant after the grant's proof broke."""
    from consent import make_disclosure, sign_document

    body = {k: v for k, v in make_disclosure(
        full_workcontext(key.did), signed_grant(key, ["skills"]), 1, key,
        NOW).items() if k != "proof"}
    body["grant"]["proof"]["signature"] = "A" * 86
    return sign_document(body, key)


def test_a_grant_with_a_broken_proof_in_a_signed_disclosure_is_read_as_one_by_one(
        system):
    # One rule for both paths: the holder's signature over the disclosure covers
    # the grant and its proof (consent.grant.grant_in_signed_document).
    one, many = _broken_grant_proof(holder_key(1)), _broken_grant_proof(holder_key(2))

    system.registry.receive_disclosure(one, NOW)
    result = system.registry.bulk.disclosures([json.dumps(many)], NOW)

    assert (result.accepted, result.refused) == (1, [])
    rows = {r.holder_did: r for r in disclosure_rows(system.registry.engine)}
    assert rows.keys() == {holder_key(1).did, holder_key(2).did}
    assert {json.loads(r.document)["grant"]["proof"]["signature"]
            for r in rows.values()} == {"A" * 86}


def test_replays_and_withdrawn_grants_are_refused_in_bulk(system):
    key = holder_key(1)
    grant = signed_grant(key, ["skills"])
    system.registry.receive_disclosure(disclosure(key, grant, 1), NOW)
    system.registry.receive_withdrawal(withdrawal(key, grant, 2), NOW)
    other = signed_grant(key, ["level"])
    before = registry_snapshot(system.registry.engine)

    result = system.registry.bulk.disclosures(
        [json.dumps(disclosure(key, other, 2)), json.dumps(disclosure(key, grant, 3))],
        NOW)

    assert sorted(result.refused) == [(0, "replayed-document"), (1, "grant-withdrawn")]
    assert registry_snapshot(system.registry.engine) == before


def test_a_signed_projection_naming_an_unknown_skill_is_refused_in_bulk(system):
    key = holder_key(1)
    document = full_workcontext(key.did, skills=(
        "http://data.europa.eu/esco/skill/00000000-0000-0000-0000-000000000000",))
    signed = disclosure(key, signed_grant(key, ["skills"]), 1, document)
    before = registry_snapshot(system.registry.engine)

    result = system.registry.bulk.disclosures([json.dumps(signed)], NOW)

    assert result.refused == [(0, "invalid-document")] and result.accepted == 0
    assert registry_snapshot(system.registry.engine) == before


@pytest.mark.parametrize("depth", [5, 6, 7])
def test_a_projection_nested_too_deep_is_refused_in_bulk_as_single_ingest_does(
        system, depth):
    key = holder_key(1)
    document = full_workcontext(key.did)
    document["skills"] = json.loads("[" * depth + "]" * depth)
    signed = disclosure(key, signed_grant(key, ["skills"]), 1, document)
    text = json.dumps(signed)
    before = registry_snapshot(system.registry.engine)

    result = system.registry.bulk.disclosures([text], NOW)
    try:
        system.registry.receive_disclosure(json.loads(text), NOW)
        single = None
    except Exception as exc:  # noqa: BLE001 - the refusal's code is compared
        single = getattr(exc, "code", repr(exc))

    assert [code for _, code in result.refused] == ([single] if single else [])
    if single is None:
        assert result.accepted == 1
    else:
        assert registry_snapshot(system.registry.engine) == before


def test_bulk_ingest_refuses_what_the_employer_policy_refuses_as_single_ingest_does(
        system):
    from consent import KINDS, Audience, EmployerPolicy
    from tests.factories import UTRECHT

    system.registry.policies.set_policy(
        EmployerPolicy(UTRECHT, frozenset(KINDS) - {"cross_sector"}), NOW)
    refused, allowed = holder_key(31), holder_key(32)
    for key in (refused, allowed):  # the policy binds attested employees only
        system.registry.employment.attest(UTRECHT, key.did, NOW)
    documents = [
        disclosure(refused, signed_grant(refused, ["skills"],
                                         to=Audience("cross_sector")), 1),
        disclosure(allowed, signed_grant(allowed, ["skills"],
                                         to=Audience("employer", employer=UTRECHT)), 1),
    ]

    result = system.registry.bulk.disclosures([json.dumps(d) for d in documents], NOW)

    assert result.refused == [(0, "audience-refused-by-employer")]
    assert result.accepted == 1


def test_an_employer_audience_must_name_the_holders_employer_in_bulk(system):
    from consent import Audience
    from tests.factories import AMSTERDAM

    key = holder_key(33)  # works for Utrecht, the audience names Amsterdam
    grant = signed_grant(key, ["skills"], to=Audience("employer", employer=AMSTERDAM))

    result = system.registry.bulk.disclosures([json.dumps(disclosure(key, grant, 1))],
                                              NOW)

    assert result.refused == [(0, "invalid-audience")] and result.accepted == 0


def test_bulk_stores_the_same_disclosure_row_as_single_ingest(system):
    from consent import Audience
    from tests.factories import UTRECHT, disclosure_rows

    audiences = [Audience("corop", region="CR17"),
                 Audience("province", province="PV26"),
                 Audience("employer_and_neighbours", employer=UTRECHT),
                 Audience("sector", sector="province")]
    one, bulk = [], []
    for n, audience in enumerate(audiences):
        for out, base in ((one, 40), (bulk, 60)):
            key = holder_key(base + n)
            out.append(disclosure(key, signed_grant(key, ["skills", "employer"],
                                                    to=audience), 1))
    for document in one:
        system.registry.receive_disclosure(document, NOW)

    system.registry.bulk.disclosures([json.dumps(d) for d in bulk], NOW)

    columns = ("audience_kind", "audience_ref", "policy_employer", "employer_code",
               "fields")
    rows = sorted(disclosure_rows(system.registry.engine), key=lambda r: r.id)
    stored = [tuple(getattr(r, c) for c in columns) for r in rows]
    assert sorted(stored[: len(one)]) == sorted(stored[len(one):])


def _erasure(key, sequence: int) -> dict:
    from consent import format_time, sign_document

    body = {"type": "ErasureRequest", "holder": key.did, "sequence": sequence,
            "issued": format_time(NOW)}
    return sign_document(body, key)


def test_an_old_disclosure_bulk_ingested_after_erasure_is_a_replay(system):
    key = holder_key(41)
    grant = signed_grant(key, ["skills"])
    system.registry.receive_disclosure(disclosure(key, grant, 1), NOW)
    system.registry.receive_erasure(_erasure(key, 2), NOW)
    before = registry_snapshot(system.registry.engine)

    result = system.registry.bulk.disclosures(
        [json.dumps(disclosure(key, grant, 1)), json.dumps(disclosure(key, grant, 2))],
        NOW)

    assert sorted(result.refused) == [(0, "replayed-document"), (1, "replayed-document")]
    assert registry_snapshot(system.registry.engine) == before


def test_a_holder_erased_here_is_bulk_ingested_above_the_erasure_sequence(system):
    key = holder_key(42)
    grant = signed_grant(key, ["skills"])
    system.registry.receive_disclosure(disclosure(key, grant, 1), NOW)
    system.registry.receive_erasure(_erasure(key, 2), NOW)

    result = system.registry.bulk.disclosures([json.dumps(disclosure(key, grant, 3))],
                                              NOW)

    assert result.refused == [] and result.accepted == 1
    assert [r.holder_did for r in disclosure_rows(system.registry.engine)] == [key.did]


def test_a_grant_withdrawn_before_an_erasure_is_refused_in_bulk_after_it(system):
    key = holder_key(43)
    kept, gone = signed_grant(key, ["skills"]), signed_grant(key, ["level"])
    system.registry.receive_disclosure(disclosure(key, kept, 1), NOW)
    system.registry.receive_disclosure(disclosure(key, gone, 2), NOW)
    system.registry.receive_withdrawal(withdrawal(key, gone, 3), NOW)
    system.registry.receive_erasure(_erasure(key, 4), NOW)

    result = system.registry.bulk.disclosures(
        [json.dumps(disclosure(key, gone, 5)), json.dumps(disclosure(key, kept, 6))],
        NOW)

    assert result.refused == [(0, "grant-withdrawn")] and result.accepted == 1
    assert [r.grant_id for r in disclosure_rows(system.registry.engine)] == [kept.id]


def test_bulk_stores_times_and_dates_in_the_form_single_ingest_stores_them(system):
    from sqlalchemy import text

    one, bulk = holder_key(51), holder_key(52)
    fields = ["skills", "available_period", "hours_per_week", "level"]
    system.registry.receive_disclosure(disclosure(one, signed_grant(one, fields), 1),
                                       NOW)
    system.registry.bulk.disclosures(
        [json.dumps(disclosure(bulk, signed_grant(bulk, fields), 1))], NOW)

    columns = ("sequence, audience_kind, audience_ref, valid_from, valid_until, "
               "fields, level_rank, hours_per_week, available_from, available_until, "
               "received, policy_employer, employer_code")
    with system.registry.engine.connect() as conn:
        stored = conn.execute(text(
            f"SELECT {columns} FROM disclosure ORDER BY id")).all()
    assert len(stored) == 2 and stored[0] == stored[1]


def test_bulk_writes_the_match_index_rows_single_ingest_writes(system):
    from sqlalchemy import text

    one, bulk = holder_key(53), holder_key(54)
    fields = ["skills", "available_period", "hours_per_week", "level", "employer"]
    system.registry.receive_disclosure(disclosure(one, signed_grant(one, fields), 1),
                                       NOW)
    system.registry.bulk.disclosures(
        [json.dumps(disclosure(bulk, signed_grant(bulk, fields), 1))], NOW)

    def rows(table: str, columns: str) -> list[list]:
        with system.registry.engine.connect() as conn:
            stored = conn.execute(text(
                f"SELECT disclosure_id, {columns} FROM {table}")).all()
        by_disclosure: dict[int, list] = {}
        for disclosure_id, *values in stored:
            by_disclosure.setdefault(disclosure_id, []).append(tuple(values))
        return [sorted(v) for _, v in sorted(by_disclosure.items())]

    index = rows("match_disclosure", "reach, valid_from, valid_until, sequence, "
                 "employer_code, level_rank, hours_per_week, available_from, "
                 "available_until")
    skills = rows("match_skill", "skill, reach, valid_from, valid_until")
    assert len(index) == 2 and index[0] == index[1]
    assert len(skills) == 2 and len(skills[0]) == 3 and skills[0] == skills[1]


def _indexes(engine) -> dict[str, list]:
    from sqlalchemy import inspect

    tables = ("disclosure", "disclosure_purpose", "disclosure_audience",
              "disclosure_skill", "holder")
    inspector = inspect(engine)
    return {t: sorted((i["name"], tuple(i["column_names"]), bool(i["unique"]))
                      for i in inspector.get_indexes(t)) for t in tables}


def _foreign_keys(engine) -> dict:
    from sqlalchemy import inspect

    tables = ("disclosure", "disclosure_purpose", "disclosure_audience",
              "disclosure_skill", "match_disclosure", "match_skill")
    inspector = inspect(engine)
    return {t: sorted((k["name"] or "", tuple(k["constrained_columns"]),
                       k["referred_table"], tuple(k["referred_columns"]))
                      for k in inspector.get_foreign_keys(t)) for t in tables}


def _primary_keys(engine) -> dict:
    from sqlalchemy import inspect

    inspector = inspect(engine)
    return {t: (inspector.get_pk_constraint(t)["name"],
                tuple(inspector.get_pk_constraint(t)["constrained_columns"]))
            for t in ("match_disclosure", "match_skill")}


def test_a_load_into_an_empty_registry_ends_with_every_primary_key_it_had(system):
    engine = system.registry.engine
    before = _primary_keys(engine)
    assert before["match_skill"][1]  # the match index tables have their keys

    result = system.registry.bulk.disclosures([json.dumps(d) for d in documents()],
                                              NOW)

    assert result.accepted == 12 and _primary_keys(engine) == before


def test_a_load_into_an_empty_registry_ends_with_every_foreign_key_it_had(system):
    engine = system.registry.engine
    before = _foreign_keys(engine)
    assert before["match_skill"]  # the child tables refer to their disclosure

    result = system.registry.bulk.disclosures([json.dumps(d) for d in documents()],
                                              NOW)

    assert result.accepted == 12 and _foreign_keys(engine) == before


def _triggers(engine) -> list[tuple]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            query = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
        else:
            # Only this test's schema: other runs may share the database.
            query = ("SELECT t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t "
                     "JOIN pg_class c ON c.oid = t.tgrelid "
                     "WHERE NOT t.tgisinternal "
                     "AND c.relnamespace = current_schema()::regnamespace")
        return sorted(conn.exec_driver_sql(query).all())


def _change_log(engine) -> list[tuple]:
    """The change log, numbered from its first row and its first disclosure."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT seq, disclosure_id, transaction_id IS NULL FROM match_change "
            "ORDER BY seq").all()
    seq, disclosure = rows[0][0], min(r[1] for r in rows)
    return [(s - seq, d - disclosure, t) for s, d, t in rows]


def test_a_load_into_an_empty_registry_logs_the_index_changes_its_triggers_log(
        system, monkeypatch):
    engine = system.registry.engine
    before = _triggers(engine)
    texts = [json.dumps(d) for d in documents()]

    system.registry.bulk.disclosures(texts, NOW)
    logged = _change_log(engine)
    forget_holders(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM match_change")
    monkeypatch.setattr(bulk, "_defer_change_trigger", lambda conn: [])
    system.registry.bulk.disclosures(texts, NOW)  # logged by the triggers alone
    by_triggers = _change_log(engine)

    assert len(logged) == 12 and logged == by_triggers
    assert _triggers(engine) == before


def test_a_load_into_an_empty_registry_ends_with_every_index_it_had(system):
    engine = system.registry.engine
    before = _indexes(engine)
    assert before["disclosure_skill"]  # the skill index is among them

    result = system.registry.bulk.disclosures([json.dumps(d) for d in documents()],
                                              NOW)

    assert result.accepted == 12 and _indexes(engine) == before


def test_a_load_into_an_empty_registry_that_fails_leaves_no_row_and_every_index(
        system):
    engine = system.registry.engine
    before_indexes, before_rows = _indexes(engine), registry_snapshot(engine)
    before_keys, before_triggers = _foreign_keys(engine), _triggers(engine)
    before_primary = _primary_keys(engine)

    def cut_off():
        yield from (json.dumps(d) for d in documents())
        raise OSError("input ended early")

    try:
        system.registry.bulk.disclosures(cut_off(), NOW)
    except OSError:
        pass
    else:
        raise AssertionError("the load should have failed")

    assert _indexes(engine) == before_indexes
    assert _foreign_keys(engine) == before_keys
    assert _primary_keys(engine) == before_primary
    assert _triggers(engine) == before_triggers
    assert registry_snapshot(engine) == before_rows


def test_a_load_into_a_registry_with_disclosures_keeps_its_indexes(system):
    engine = system.registry.engine
    key = holder_key(61)
    system.registry.receive_disclosure(disclosure(key, signed_grant(key, ["skills"]),
                                                  1), NOW)
    before = _indexes(engine)

    system.registry.bulk.disclosures([json.dumps(d) for d in documents()], NOW)

    assert _indexes(engine) == before


def test_a_load_leaves_the_sqlite_connection_settings_as_it_found_them(system):
    engine = system.registry.engine
    if engine.dialect.name != "sqlite":
        return
    settings = ("cache_size", "threads", "foreign_keys")
    with engine.connect() as conn:
        before = [conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in settings]

    system.registry.bulk.disclosures([json.dumps(d) for d in documents()], NOW)

    with engine.connect() as conn:
        after = [conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in settings]
    assert after == before and before[-1] == 1


def test_after_a_load_the_pooled_connection_refuses_a_dangling_reference(system):
    engine = system.registry.engine
    system.registry.bulk.disclosures([json.dumps(d) for d in documents()], NOW)

    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO disclosure_purpose (disclosure_id, purpose) "
                             "VALUES (987654321, 'matching')")


def test_a_batch_holds_the_sqlite_write_lock_while_it_reads_the_registry_state(
        system, monkeypatch):
    # Otherwise a withdrawal or an erasure committed between a batch's reads and
    # its writes would not be seen by the batch's checks.
    engine = system.registry.engine
    if engine.dialect.name != "sqlite":
        return
    key = holder_key(62)  # a registry with disclosures: one transaction per batch
    system.registry.receive_disclosure(disclosure(key, signed_grant(key, ["skills"]),
                                                  1), NOW)
    other_writer = []
    read_state = bulk.against_state

    def read_state_then_try_to_write(conn, *args):
        kept = read_state(conn, *args)
        other = sqlite3.connect(engine.url.database, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            other_writer.append("could write")
            other.rollback()
        except sqlite3.OperationalError:
            other_writer.append("waits")
        finally:
            other.close()
        return kept

    monkeypatch.setattr(bulk, "against_state", read_state_then_try_to_write)
    system.registry.bulk.disclosures([json.dumps(d) for d in documents()], NOW)

    assert other_writer == ["waits"]


def _holder_keys_now(conn) -> list[str]:
    return sorted(conn.exec_driver_sql(
        "SELECT conname FROM pg_constraint WHERE contype = 'f' AND "
        "conrelid = 'disclosure'::regclass AND confrelid = 'holder'::regclass"
    ).scalars())


def test_a_load_into_an_empty_postgres_registry_checks_holders_once_at_its_end(
        system, monkeypatch):
    # Checked row by row, the key cost the server a query and a row lock on the
    # holder per disclosure; added back at the end it checks every row at once.
    engine = system.registry.engine
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        before = _holder_keys_now(conn)
    during = []
    store = bulk.insert

    def store_and_look(conn, kept, now, *args, **kwargs):
        during.append(_holder_keys_now(conn))
        store(conn, kept, now, *args, **kwargs)

    monkeypatch.setattr(bulk, "insert", store_and_look)
    result = system.registry.bulk.disclosures([json.dumps(d) for d in documents()],
                                              NOW)

    with engine.connect() as conn:
        assert result.accepted == 12 and _holder_keys_now(conn) == before
    assert before and during == [[]]


def test_a_load_that_names_a_holder_it_did_not_store_fails_and_changes_nothing(
        system, monkeypatch):
    engine = system.registry.engine
    if engine.dialect.name != "postgresql":
        return  # SQLite's keys are off during a load (see bulk._SQLITE_LOAD)
    before_rows, before_keys = registry_snapshot(engine), _foreign_keys(engine)
    monkeypatch.setattr(bulk_rows, "upsert_holders", lambda conn, kept: None)

    with pytest.raises(StorageFailed):
        system.registry.bulk.disclosures([json.dumps(d) for d in documents()], NOW)

    assert registry_snapshot(engine) == before_rows
    assert _foreign_keys(engine) == before_keys
