"""Schema migrations of the registry (Alembic; the revisions are in ``migrations/``).

``upgrade`` is safe on every start and from ``vg db upgrade``:

- an empty database gets the current schema in one step and is stamped as current;
- a database of the first release (registry tables, no version table) is stamped
  as the baseline revision and then upgraded, keeping every row;
- a versioned database is upgraded to the newest revision (nothing if it is there).

On PostgreSQL a transaction-scoped advisory lock serialises workers that start at
the same moment, so two of them never migrate one database at once.

Alembic is imported only when the schema is behind ``HEAD``: a serving worker whose
database is current (the parent or ``vg db upgrade`` migrated it) reads the version
table with one query and never loads Alembic's 11 MB (measured RSS, 1 GiB upload
benchmark). A test holds ``HEAD`` equal to the newest revision in ``migrations/``.
"""

from __future__ import annotations

from sqlalchemy import Connection, Engine, inspect, text
from sqlmodel import SQLModel

from .db import registry_tables, transaction

BASELINE = "0001_baseline"
HEAD = "0020_api_key_revoked"
VERSION_TABLE = "registry_schema_version"
_LOCK_KEY = 0x7667_7265_6700  # any constant shared by every worker


def upgrade(engine: Engine) -> str:
    """Bring the schema to the newest revision; returns that revision."""
    with transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        if stored_revision(conn) != HEAD:
            _upgrade(conn)
        return current_revision(conn)


def stored_revision(conn: Connection) -> str | None:
    """The revision in the version table, read without Alembic; None when there is
    no table or not exactly one row (then Alembic decides what to do)."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    return rows[0][0] if len(rows) == 1 else None


def _upgrade(conn: Connection) -> None:
    from alembic import command

    found = inspect(conn)
    config = _config(conn)
    if found.has_table(VERSION_TABLE):
        command.upgrade(config, "head")
    elif found.has_table("disclosure"):
        command.stamp(config, BASELINE)
        command.upgrade(config, "head")
    else:
        SQLModel.metadata.create_all(conn, tables=registry_tables())
        command.stamp(config, "head")


def current_revision(conn: Connection) -> str | None:
    if stored_revision(conn) == HEAD:
        return HEAD
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(None)).get_current_head()


def _config(conn: Connection | None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "registry:migrations")
    config.attributes["connection"] = conn
    return config
