"""The registry's SQLite engine: the page size of its file."""

from __future__ import annotations

import sqlite3

from sqlalchemy import text

from registry import create_tables, make_engine
from registry.db import PAGE_SIZE


def _page_size(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("PRAGMA page_size")).scalar_one()


def test_a_new_sqlite_registry_is_made_of_16_kib_pages(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'registry.sqlite'}")
    create_tables(engine)

    assert PAGE_SIZE == 16384
    assert _page_size(engine) == PAGE_SIZE
    engine.dispose()


def test_an_existing_sqlite_registry_keeps_its_page_size_and_its_rows(tmp_path):
    path = tmp_path / "registry.sqlite"
    made = sqlite3.connect(path)
    made.execute("PRAGMA page_size = 4096")
    made.execute("PRAGMA journal_mode = WAL")
    made.execute("CREATE TABLE kept (value TEXT)")
    made.execute("INSERT INTO kept VALUES ('before')")
    made.commit()
    made.close()

    engine = make_engine(f"sqlite:///{path}")
    assert _page_size(engine) == 4096
    with engine.connect() as conn:
        assert conn.execute(text("SELECT value FROM kept")).scalars().all() == [
            "before"]
    engine.dispose()
