"""Schema migrations: a database of the first release upgrades with every row kept,
and the migrated schema is the one the tables describe."""

from __future__ import annotations

import json
from datetime import date

import pytest
from alembic.autogenerate import compare_metadata
from alembic.command import downgrade as alembic_downgrade
from alembic.command import stamp as alembic_stamp
from alembic.command import upgrade as alembic_upgrade
from alembic.runtime.migration import MigrationContext
from sqlalchemy import insert, inspect, select, text

from registry import make_engine, upgrade
from registry.migrate import BASELINE, HEAD, VERSION_TABLE, _config, head_revision
from registry.tables import Assignment, Disclosure, Holder, Organisation
from registry.tables import metadata_for_migrations
from tests.factories import NOW, UTRECHT, drop_all_tables


@pytest.fixture
def engine(database_url, tmp_path):
    url = database_url or f"sqlite:///{tmp_path / 'registry.sqlite'}"
    engine = make_engine(url)
    yield engine
    engine.dispose()
    if database_url:
        drop_all_tables(database_url)


def first_release(engine) -> None:
    """The schema as the first release created it: no version table."""
    with engine.begin() as conn:
        config = _config(conn)
        alembic_upgrade(config, BASELINE)
        conn.execute(text(f"DROP TABLE {VERSION_TABLE}"))


def seed(engine) -> None:
    projection = {"availability": {"period": {"startDate": "2027-01-01",
                                              "endDate": "2027-06-30"}}}
    with engine.begin() as conn:
        conn.execute(insert(Organisation.__table__).values(
            code=UTRECHT, name="Utrecht", sector="municipality"))
        conn.execute(insert(Holder.__table__).values(
            did="did:key:z1", pseudonym="a" * 32, last_sequence=1))
        conn.execute(text(
            "INSERT INTO disclosure (grant_id, holder_did, sequence, audience_kind,"
            " valid_from, valid_until, fields, projection, document, received)"
            " VALUES ('g1', 'did:key:z1', 1, 'all_municipalities', :now, :now,"
            " 'available_period skills', :projection, '{}', :now)"),
            {"now": NOW, "projection": json.dumps(projection)})
        conn.execute(text(
            "INSERT INTO assignment (organisation, title, description, required_skills,"
            " optional_skills, circle, status, created) VALUES"
            " (:org, 'Opdracht', '', '[]', '[]', 'national', 'open', :now)"),
            {"org": UTRECHT, "now": NOW})


def test_an_upgrade_of_the_first_release_keeps_every_row(engine):
    first_release(engine)
    seed(engine)

    assert upgrade(engine) == head_revision()

    with engine.connect() as conn:
        row = conn.execute(select(Disclosure.__table__)).one()
        job = conn.execute(select(Assignment.__table__)).one()
    assert (row.grant_id, row.available_from, row.available_until) == (
        "g1", date(2027, 1, 1), date(2027, 6, 30))
    assert (job.title, job.location, job.status, job.freelancers) == (
        "Opdracht", UTRECHT, "open", True)
    assert job.opened == job.id  # a pod's cursor, an assignment id, stays valid


def test_the_migrated_schema_is_the_schema_the_tables_describe(engine):
    first_release(engine)
    upgrade(engine)

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE})
        differences = compare_metadata(context, metadata_for_migrations())

    assert differences == []


def test_upgrading_twice_changes_nothing(engine):
    assert upgrade(engine) == upgrade(engine) == head_revision()


def test_head_names_the_newest_revision():
    assert HEAD == head_revision()


CHILD_ROWS = {"disclosure_purpose": ("purpose", ["matching", "staffing"]),
              "disclosure_audience": ("organisation", [UTRECHT]),
              "disclosure_skill": ("skill", ["esco:s1", "esco:s2", "esco:s3"])}


def test_the_disclosure_child_tables_keep_their_rows_without_a_rowid(engine):
    first_release(engine)
    seed(engine)
    with engine.begin() as conn:
        alembic_stamp(_config(conn), BASELINE)
        alembic_upgrade(_config(conn), "0014_video_share")
        disclosure_id = conn.execute(select(Disclosure.__table__.c.id)).scalar_one()
        for table, (column, values) in CHILD_ROWS.items():
            conn.execute(text(
                f"INSERT INTO {table} (disclosure_id, {column}) VALUES (:d, :v)"),
                [{"d": disclosure_id, "v": v} for v in values])

    upgrade(engine)

    with engine.connect() as conn:
        for table, (column, values) in CHILD_ROWS.items():
            kept = conn.execute(text(
                f"SELECT disclosure_id, {column} FROM {table} ORDER BY 2")).all()
            assert kept == [(disclosure_id, v) for v in values]
        if engine.dialect.name == "sqlite":
            shapes = dict(conn.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE name IN "
                "('disclosure_purpose', 'disclosure_audience', 'disclosure_skill')"
            )).all())
            assert all("WITHOUT ROWID" in sql for sql in shapes.values())
            assert conn.execute(text(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = "
                "'ix_disclosure_skill_skill_disclosure'")).scalar() == 1


def test_disclosures_stored_before_get_the_share_of_the_video_they_name(engine):
    from consent.video_share import share_address

    first_release(engine)
    seed(engine)
    share = "ab" * 16
    video = {"introVideo": {"type": "VideoObject", "encodingFormat": "video/mp4",
                            "contentUrl": share_address("https://vg.example/", share)}}
    with engine.begin() as conn:
        alembic_stamp(_config(conn), BASELINE)
        alembic_upgrade(_config(conn), "0016_team_name_per_organisation")
        for grant, fields in (("g2", "intro_video skills"), ("g3", "skills")):
            conn.execute(text(
                "INSERT INTO disclosure (grant_id, holder_did, sequence, audience_kind,"
                " valid_from, valid_until, fields, projection, document, received)"
                " VALUES (:grant, 'did:key:z1', 1, 'all_municipalities', :now, :now,"
                " :fields, :projection, '{}', :now)"),
                {"grant": grant, "fields": fields, "now": NOW,
                 "projection": json.dumps(video)})

    upgrade(engine)

    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT grant_id, video_share FROM disclosure ORDER BY grant_id")).all()
    assert rows == [("g1", None), ("g2", share), ("g3", None)]


def _disclosures_at(engine, revision: str, grants: list[str]) -> None:
    """The schema at ``revision`` with a disclosure (and a purpose) per grant."""
    first_release(engine)
    seed(engine)
    with engine.begin() as conn:
        alembic_stamp(_config(conn), BASELINE)
        alembic_upgrade(_config(conn), revision)
        for grant in grants:
            conn.execute(text(
                "INSERT INTO disclosure (grant_id, holder_did, sequence, audience_kind,"
                " valid_from, valid_until, fields, projection, document, received)"
                " VALUES (:grant, 'did:key:z1', 1, 'cross_sector', :now, :now,"
                " 'skills', '{}', '{}', :now)"), {"grant": grant, "now": NOW})
        conn.execute(text(
            "INSERT INTO disclosure_purpose (disclosure_id, purpose)"
            " SELECT id, 'matching' FROM disclosure"))


def test_disclosures_stored_before_suspension_was_kept_stay_and_are_not_suspended(
        engine):
    _disclosures_at(engine, "0017_disclosure_video_share", ["g2"])
    every = text("SELECT * FROM disclosure ORDER BY grant_id")
    with engine.connect() as conn:
        before = [dict(r) for r in conn.execute(every).mappings()]

    upgrade(engine)

    with engine.connect() as conn:
        after = [dict(r) for r in conn.execute(every).mappings()]
        purposes = conn.execute(text("SELECT count(*) FROM disclosure_purpose")
                                ).scalar_one()
    assert [r.pop("suspended_by") for r in after] == [None, None]
    assert after == before
    assert purposes == 2


def test_downgrading_below_suspension_deletes_the_suspended_disclosures(engine):
    _disclosures_at(engine, HEAD, ["g2"])
    with engine.begin() as conn:
        conn.execute(text(
            "UPDATE disclosure SET suspended_by = :org WHERE grant_id = 'g2'"),
            {"org": UTRECHT})

    with engine.begin() as conn:
        alembic_downgrade(_config(conn), "0017_disclosure_video_share")

    with engine.connect() as conn:
        grants = conn.execute(text("SELECT grant_id FROM disclosure")).scalars().all()
        purposes = conn.execute(text("SELECT count(*) FROM disclosure_purpose")
                                ).scalar_one()
        columns = {c["name"] for c in inspect(conn).get_columns("disclosure")}
    assert (grants, purposes) == (["g1"], 1)
    assert "suspended_by" not in columns
