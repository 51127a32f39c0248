"""The bounds checked before a JSON body is parsed: nesting depth (counted on the
raw text) and forbidden characters in any string."""

from __future__ import annotations

import json

import pytest

from schemas import InvalidDocument, parse_bounded
from schemas.jsonld import MAX_DEPTH


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_a_body_at_the_depth_limit_parses_and_one_deeper_is_refused():
    assert parse_bounded(nested(MAX_DEPTH)) is not None
    with pytest.raises(InvalidDocument):
        parse_bounded(nested(MAX_DEPTH + 1))


def test_brackets_inside_a_string_with_an_escaped_quote_do_not_count_as_depth():
    text = json.dumps({"note": 'she said "' + "[" * 50 + '"'})

    assert parse_bounded(text) == json.loads(text)


def test_brackets_after_an_escaped_quote_outside_the_string_still_count():
    text = '{"a": "x\\"y", "b": ' + nested(MAX_DEPTH + 1) + "}"

    with pytest.raises(InvalidDocument):
        parse_bounded(text)


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\u202e", "\u2066"])
def test_control_and_bidirectional_characters_in_a_string_are_refused(char):
    with pytest.raises(InvalidDocument):
        parse_bounded(json.dumps({"name": f"a{char}b"}))


def test_tabs_and_newlines_in_a_string_are_allowed():
    assert parse_bounded(json.dumps({"name": "a\tb\nc"})) == {"name": "a\tb\nc"}


def test_brackets_inside_plain_strings_neither_add_nor_hide_depth():
    inside = json.dumps({"a": "[" * 20, "b": json.loads(nested(MAX_DEPTH - 1))})
    hiding = '{"a": "' + "]" * 20 + '", "b": ' + nested(MAX_DEPTH + 1) + "}"

    assert parse_bounded(inside) == json.loads(inside)
    with pytest.raises(InvalidDocument):
        parse_bounded(hiding)


@pytest.mark.parametrize("char", ["\u202e", "\x07", "\ud800"])
@pytest.mark.parametrize("where", ["key", "value"])
def test_forbidden_characters_written_raw_or_escaped_are_refused(char, where):
    member = {f"k{char}": "v"} if where == "key" else {"k": f"v{char}"}
    escaped = json.dumps(member)  # ensure_ascii: the character as a \\u escape

    for text in (escaped, json.dumps(member, ensure_ascii=False)):
        with pytest.raises(InvalidDocument):
            parse_bounded(text)


@pytest.mark.parametrize("escape", ["\\b", "\\f"])
def test_control_characters_from_short_escapes_are_refused(escape):
    with pytest.raises(InvalidDocument):
        parse_bounded('{"name": "a' + escape + 'b"}')


def test_forbidden_characters_in_utf16_bytes_are_refused():
    with pytest.raises(InvalidDocument):
        parse_bounded(json.dumps({"name": "a\u202eb"}, ensure_ascii=False)
                      .encode("utf-16"))


@pytest.mark.parametrize("text", [
    '{"a": 1, "a": 2}',
    '{"a": {"b": 1, "c": {"d": 2, "d": 2}}}',
    '[{"a": "x:y"}, {"k": ":", "k": ": "}]',
    '{"a": 1, "b": {"a": 1}, "b": 2}',
])
def test_duplicate_member_names_are_refused_with_or_without_escapes(text):
    escaped = text.replace('"x', '"\\u0078')  # the same value, one written escaped

    for written in (text, escaped, text.encode("utf-8")):
        with pytest.raises(InvalidDocument, match="duplicate member names"):
            parse_bounded(written)


@pytest.mark.parametrize("text", [
    '{"a": ":", "b": {"c:": "::", "d": [":", {"e": 1}]}}',
    '{"urn:a": 1, "urn:b": 2}',
    '[":", ":", {}]',
])
def test_colons_inside_strings_are_not_taken_for_members(text):
    assert parse_bounded(text) == json.loads(text)


@pytest.mark.parametrize("text", [
    '{"a": -0}', '[-0, 1]', '{"a": 1, "a": 1}', '{"a": [], "b": {"a": [], "a": []}}',
    '{"é": 1, "é": 1}', '[{"k": ":"}, {"k": ":", "k": ":"}]',
])
def test_a_plain_text_reads_as_the_json_module_reads_it_or_is_refused_the_same(text):
    try:
        expected = json.loads(text, object_pairs_hook=_no_duplicates)
    except ValueError:
        with pytest.raises(InvalidDocument, match="duplicate member names"):
            parse_bounded(text)
    else:
        assert parse_bounded(text) == expected


def _no_duplicates(pairs):
    if len(dict(pairs)) != len(pairs):
        raise ValueError("duplicate")
    return dict(pairs)


@pytest.mark.parametrize("text, problem", [
    ("[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH, "nested deeper"),
    ("[" * (MAX_DEPTH - 1) + "1" + "]" * (MAX_DEPTH - 1), None),
    ("[" + ",".join(["1"] * 1999) + "]", None),
    ("[" + ",".join(["1"] * 2000) + "]", "more than 2000 values"),
    ("[" + ",".join(["[]"] * 1000) + "]", None),
    ("[" + ",".join(["[1]"] * 1000) + "]", "more than 2000 values"),
    ("[9007199254740991, 999999999999999]", None),
    ("[9007199254740992]", "integers must lie within"),
    ("[1.0]", "numbers must be integers"),
    ("[1e5]", "numbers must be integers"),
    ("[NaN]", "numbers must be integers"),
    ("[-Infinity]", "numbers must be integers"),
    ("[12345678901234567890123]", "integers must lie within"),
])
def test_values_at_and_past_each_bound_are_read_or_refused(text, problem):
    if problem is None:
        assert parse_bounded(text) == json.loads(text)
    else:
        with pytest.raises(InvalidDocument, match=problem):
            parse_bounded(text)


@pytest.mark.parametrize("text", [
    '{"a": 1, "b": ["x", {"c": 2}]}', '{"a": 1, "a": 2}', '{"é": "ü", "k": ":"}',
    '{"a": "x\\"y", "b": [1, 2]}', '{"a": "\\u202e"}', '{"a": "tab\\tnew\\n"}',
    '{"a": -0}', '[1.5]', '{"a": ', '{"a": "\u202e"}', "[" * 9 + "]" * 9,
    '{"a": "\\ud800"}', '{"a": 1, "a": 1}', "[9007199254740992]",
])
def test_a_body_in_utf8_bytes_reads_as_its_text_or_is_refused_the_same(text):
    assert _outcome(lambda: parse_bounded(text.encode("utf-8"))) == \
        _outcome(lambda: parse_bounded(text))


NOT_UTF8 = ("error", ("document must be UTF-8 without a byte order mark (RFC 8259 "
                      "section 8.1)",))


@pytest.mark.parametrize("raw, outcome", [
    (b'\xef\xbb\xbf{"a": 1}', NOT_UTF8),
    ('{"a": 1}'.encode("utf-16"), NOT_UTF8),
    ('{"a": 1}'.encode("utf-16-be"), NOT_UTF8),
    ('{"a": 1}'.encode("utf-32"), NOT_UTF8),
    (b'{"a": "\xed\xa0\x80"}', ("error", ("text must not hold control characters, "
                                         "lone surrogates or bidirectional "
                                         "override characters",))),
    (b'{"a": "\xff"}', ("error", ("body is not valid JSON",))),
])
def test_bytes_in_another_encoding_are_refused_and_no_utf8_read_as_before(raw,
                                                                          outcome):
    assert _outcome(lambda: parse_bounded(raw)) == outcome


def _outcome(read):
    try:
        return ("value", read())
    except InvalidDocument as exc:
        return ("error", tuple(exc.problems))
