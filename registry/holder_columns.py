"""Marks on the columns that name a holder, so that an erasure finds every one.

A column that holds a holder's ``did`` or the registry's pseudonym of one carries
``info=NAMES_PSEUDONYM`` or ``info=NAMES_DID`` in its table definition. The signed
erasure (erasure.py) reads these marks from the metadata and clears every marked
column of the holder, so a table added later is erased as soon as its column is
marked (tests/registry/test_erasure.py fails for an unmarked pseudonym column).
``erased_holder`` is the one table left unmarked on purpose: it is what erasure
keeps.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sqlalchemy import Column, Table

HOLDER_KEY = "holder_key"
NAMES_PSEUDONYM = {HOLDER_KEY: "pseudonym"}
NAMES_DID = {HOLDER_KEY: "did"}


def holder_columns(tables: Iterable[Table]) -> Iterator[tuple[Table, Column, str]]:
    """Each marked column with what it holds (``"pseudonym"`` or ``"did"``)."""
    for table in tables:
        for column in table.columns:
            kind = column.info.get(HOLDER_KEY)
            if kind is not None:
                yield table, column, kind
