"""A whole System per test, on SQLite always and on PostgreSQL when
``VG_TEST_POSTGRES_URL`` is set. On PostgreSQL the registry's and the audit log's
tables are dropped and created afresh for every test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import drop_all_tables, running_system
from vg.wiring import System

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not os.environ.get("VG_TEST_POSTGRES_URL"),
                               reason="VG_TEST_POSTGRES_URL not set"),
        ],
    ),
]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str | None:
    """None on SQLite (the System keeps its databases in its data directory)."""
    if request.param == "sqlite":
        return None
    url = request.getfixturevalue("postgres_url")
    drop_all_tables(url)
    return url


@pytest.fixture
def system(database_url: str | None, tmp_path: Path) -> Iterator[System]:
    with running_system(tmp_path / "data", database_url) as built:
        yield built
