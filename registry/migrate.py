"""Schema migrations of the registry (Alembic; the revisions are in ``migrations/``).

``upgrade`` is safe on every start and from ``vg db upgrade``:

- an empty database gets the current schema in one step and is stamped as current;
- a database of the first release (registry tables, no version table) is stamped
  as the baseline revision and then upgraded, keeping every row;
- a versioned database is upgraded to the newest revision (nothing if it is there).

On PostgreSQL a transaction-scoped advisory lock serialises workers that start at
the same moment, so two of them never migrate one database at once.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text
from sqlmodel import SQLModel

from .db import registry_tables, transaction

BASELINE = "0001_baseline"
VERSION_TABLE = "registry_schema_version"
_LOCK_KEY = 0x7667_7265_6700  # any constant shared by every worker


def upgrade(engine: Engine) -> str:
    """Bring the schema to the newest revision; returns that revision."""
    with transaction(engine) as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        _upgrade(conn)
        return current_revision(conn)


def _upgrade(conn: Connection) -> None:
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
    context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def head_revision() -> str:
    return ScriptDirectory.from_config(_config(None)).get_current_head()


def _config(conn: Connection | None) -> Config:
    config = Config()
    config.set_main_option("script_location", "registry:migrations")
    config.attributes["connection"] = conn
    return config
