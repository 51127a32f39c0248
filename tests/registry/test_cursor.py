"""A cursor has one spelling: the text a page handed out, and no other."""

from __future__ import annotations

import pytest

from registry.cursor import decode, encode
from registry.errors import InvalidCursor

PSEUDONYM = "0123456789abcdef0123456789abcdef"


def test_a_cursor_reads_back_as_the_candidate_it_names():
    assert decode(encode(87, PSEUDONYM)) == (87, PSEUDONYM)


@pytest.mark.parametrize("spell", [lambda c: c + "=", lambda c: c + "==",
                                   lambda c: c + "\n", lambda c: c[:4] + "!" + c[4:]])
def test_another_spelling_of_a_cursor_is_refused(spell):
    cursor = encode(87, PSEUDONYM)
    with pytest.raises(InvalidCursor):
        decode(spell(cursor))
