"""Schema migrations of the audit log (Alembic; the revisions are in ``migrations/``).

``upgrade`` runs on every start (``AuditLog.create_tables``):

- an empty database gets the current tables in one step and is stamped as current;
- a log of the first release (``<prefix>_nodes``, no version table) is stamped as
  the baseline and upgraded, keeping every record and every signed checkpoint;
- a versioned log is upgraded to the newest revision (nothing if it is there).

The log may share the registry's database or have its own, so it keeps its own
revision chain and version table (``<prefix>_schema_version``). On PostgreSQL a
transaction-scoped advisory lock serialises workers that start at the same moment;
on SQLite a worker that loses the race for the write lock tries again and then
finds the tables in place.

Alembic is imported only when the tables are behind ``HEAD``: a serving worker
whose log is current reads the version table with one query and never loads
Alembic's 11 MB. A test holds ``HEAD`` equal to the newest revision in
``migrations/``.
"""

from __future__ import annotations

import zlib

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import IntegrityError, OperationalError

from audit.errors import AuditError
from audit.tables import audit_tables

BASELINE = "a0001_baseline"
HEAD = "a0009_entry_keys_parent"
_ATTEMPTS = 3


def upgrade(engine: Engine, prefix: str = "audit") -> str:
    """Bring the tables of ``prefix`` to the newest revision; returns it."""
    for attempt in range(_ATTEMPTS):
        try:
            with engine.begin() as conn:
                if conn.dialect.name == "postgresql":
                    key = zlib.crc32(f"vg-audit-migrate:{prefix}".encode())
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                 {"key": key})
                if stored_revision(conn, prefix) != HEAD:
                    _upgrade(conn, prefix)
                return current_revision(conn, prefix) or ""
        except (OperationalError, IntegrityError):
            if attempt + 1 == _ATTEMPTS or engine.dialect.name != "sqlite":
                raise
        except RuntimeError as exc:  # a revision refused to convert what it found
            raise AuditError(f"the audit tables were not upgraded: {exc}") from exc
    raise AssertionError("unreachable")


def stored_revision(conn: Connection, prefix: str = "audit") -> str | None:
    """The revision in the version table, read without Alembic; None when there is
    no table or not exactly one row (then Alembic decides what to do)."""
    table = audit_tables(prefix).version.name
    if not inspect(conn).has_table(table):
        return None
    rows = conn.execute(text(f"SELECT version_num FROM {table}")).all()
    return rows[0][0] if len(rows) == 1 else None


def _upgrade(conn: Connection, prefix: str) -> None:
    from alembic import command

    found = inspect(conn)
    config = _config(conn, prefix)
    tables = audit_tables(prefix)
    if found.has_table(tables.version.name):
        command.upgrade(config, "head")
    elif found.has_table(f"{prefix}_nodes"):
        command.stamp(config, BASELINE)
        command.upgrade(config, "head")
    else:
        tables.metadata.create_all(conn)
        command.stamp(config, "head")


def current_revision(conn: Connection, prefix: str = "audit") -> str | None:
    if stored_revision(conn, prefix) == HEAD:
        return HEAD
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(
        conn, opts={"version_table": audit_tables(prefix).version.name})
    return context.get_current_revision()


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(None, "audit")).get_current_head() or ""


def _config(conn: Connection | None, prefix: str):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "audit:migrations")
    config.attributes["connection"] = conn
    config.attributes["prefix"] = prefix
    return config
