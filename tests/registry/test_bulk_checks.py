"""The workers' conversions of bulk ingest give what SQLAlchemy gives."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from sqlalchemy.dialects import postgresql, sqlite

from registry.bulk_checks import converters
from registry.tables import Disclosure

D = Disclosure.__table__
NAMES = ("valid_from", "available_from")


def _by_sqlalchemy(dialect, values: tuple) -> tuple:
    out = []
    for name, value in zip(NAMES, values):
        process = D.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        out.append(process(value) if process and value is not None else value)
    return tuple(out)


def test_remembered_conversions_equal_fresh_ones_for_one_instant_in_two_zones():
    utc = datetime(2027, 3, 1, 12, 0, tzinfo=timezone.utc)
    plus_one = utc.astimezone(timezone(timedelta(hours=1)))
    assert utc == plus_one  # one instant, two clocks
    rows = [(utc, date(2027, 3, 1)), (plus_one, date(2027, 3, 1)),
            (utc, None), (plus_one, date(2027, 3, 2))] * 2

    for dialect in (sqlite.dialect(), postgresql.dialect()):
        convert = converters(D, NAMES, dialect)
        assert [convert(r) for r in rows] == [_by_sqlalchemy(dialect, r) for r in rows]


def test_a_converter_forgets_when_it_has_remembered_its_bound(monkeypatch):
    from registry import bulk_checks

    monkeypatch.setattr(bulk_checks, "_REMEMBERED", 2)
    convert = converters(D, NAMES, sqlite.dialect())
    days = [date(2027, 1, 1) + timedelta(days=n) for n in range(5)]
    rows = [(datetime(2027, 1, 1, tzinfo=timezone.utc), d) for d in days] * 2

    assert [convert(r) for r in rows] == [_by_sqlalchemy(sqlite.dialect(), r)
                                          for r in rows]


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
PARSED = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | TEXT,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=25)


@settings(max_examples=200)
@given(PARSED)
def test_a_stored_projection_is_written_as_json_dumps_writes_it(value):
    from registry.bulk_checks import _projection_json

    assert _projection_json(value) == json.dumps(value, ensure_ascii=False)


def test_a_stored_projection_keeps_separators_inside_texts_as_they_are():
    from registry.bulk_checks import _projection_json

    value = {"a, b": "c: d", "e": ['"', "\\", "x,y", {"f:g": [1, True, None]}]}

    assert _projection_json(value) == json.dumps(value, ensure_ascii=False)
