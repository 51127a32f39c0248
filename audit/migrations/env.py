"""Alembic environment for the audit log's tables.

The log runs its migrations itself (``audit.migrate``), handing over its connection
and its table prefix; there is no alembic.ini and no URL in a file. The audit log may
live in its own database or share the registry's, so its version table is its own:
``<prefix>_schema_version``.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
prefix = context.config.attributes["prefix"]
context.configure(
    connection=connection,
    version_table=f"{prefix}_schema_version",
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
