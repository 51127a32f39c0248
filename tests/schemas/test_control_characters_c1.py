"""Every text a body carries is free of control characters (README: "a text with a
control or bidirectional override character, which the API refuses in every
body"): DEL and the C1 controls (U+0080 to U+009F, among them CSI, which a
terminal may read as the start of an escape sequence) are control characters
(Unicode category Cc) as much as the C0 ones."""

from __future__ import annotations

import json
import unicodedata

import pytest

from schemas import InvalidDocument, holds_forbidden_characters, parse_bounded

CONTROLS = ["\x7f", "\x80", "\x85", "\x9b", "\x9f"]


@pytest.mark.parametrize("control", CONTROLS)
def test_a_body_text_with_del_or_a_c1_control_is_refused(control):
    assert unicodedata.category(control) == "Cc"
    body = json.dumps({"name": f"Jan{control}Jansen"}, ensure_ascii=False).encode()

    with pytest.raises(InvalidDocument):
        parse_bounded(body)


@pytest.mark.parametrize("control", CONTROLS)
def test_a_form_text_with_del_or_a_c1_control_is_forbidden(control):
    assert holds_forbidden_characters(f"Jan{control}Jansen")
