"""Alembic environment for the registry's schema.

The registry runs its migrations itself (``registry.migrate``), handing over the
connection it already has, so there is no alembic.ini and no URL in a file. The
version table has its own name because the audit log may share the database.
"""

from __future__ import annotations

from alembic import context

from registry.tables import metadata_for_migrations

VERSION_TABLE = "registry_schema_version"

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata_for_migrations(),
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
