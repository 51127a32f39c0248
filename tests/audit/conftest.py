"""Fixtures: an empty audit log on SQLite, and on PostgreSQL when
``VG_TEST_POSTGRES_URL`` is set. Every test gets its own table prefix and drops its
tables afterwards, so runs can share one PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from audit import AuditLog, Signer, make_engine
from audit.tables import AuditTables, audit_tables

POSTGRES_URL = os.environ.get("VG_TEST_POSTGRES_URL")
SIGNER = Signer("test.example/audit", bytes(range(32)))

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not POSTGRES_URL, reason="VG_TEST_POSTGRES_URL not set"),
        ],
    ),
]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def db_url(backend: str, tmp_path) -> str:
    if backend == "postgres":
        assert POSTGRES_URL
        return POSTGRES_URL
    return f"sqlite:///{tmp_path / 'audit.db'}"


@pytest.fixture
def prefix() -> str:
    return f"t_audit_{uuid.uuid4().hex[:12]}"


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def tables(prefix: str) -> AuditTables:
    return audit_tables(prefix)


@pytest.fixture
def log(engine: Engine, prefix: str, tables: AuditTables) -> Iterator[AuditLog]:
    log = AuditLog(engine, prefix=prefix, signer=SIGNER)
    log.create_tables()
    yield log
    log.close()
    tables.metadata.drop_all(engine)
