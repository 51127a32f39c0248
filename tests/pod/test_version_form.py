"""A version's plaintext is compact JSON in UTF-8, the form the API sends, so the
current version is served as decrypted; a version stored in the escaped form of
before (or a text without a UTF-8 form) reads back the same, as the compact form."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from pod import holder
from pod.holder import compact_json
from tests.factories import NOW, full_workcontext


def _named(pod, name: str) -> dict:
    return {**full_workcontext(pod.did), "name": name}


def test_the_current_version_is_sent_as_the_compact_json_it_was_stored_in(pod):
    document = _named(pod, "Zoë Ğüneş — 山田")
    pod.save_workcontext(document, NOW)

    sent, etag = pod.workcontext_json_with_etag()

    assert sent == compact_json(document)
    assert sent == json.dumps(document, ensure_ascii=False,
                              separators=(",", ":")).encode("utf-8")
    assert json.loads(sent) == pod.workcontext() == document
    assert etag == pod.etag()
    assert pod.read_state()["versions"][-1]["compact"] is True


def test_a_version_in_the_escaped_form_of_before_is_sent_compact(pod, monkeypatch):
    document = _named(pod, "Zoë")
    # What a save stored before the compact form: json.dumps' defaults, no mark.
    monkeypatch.setattr(holder, "_plaintext",
                        lambda d: (json.dumps(d).encode("utf-8"), False))
    pod.save_workcontext(document, NOW)
    monkeypatch.undo()

    sent, _ = pod.workcontext_json_with_etag()

    assert "compact" not in pod.read_state()["versions"][-1]
    assert sent == compact_json(document)
    assert pod.workcontext() == document


def test_a_text_without_a_utf8_form_is_stored_escaped_and_reads_back(pod):
    document = _named(pod, "half a pair \ud800")
    pod.save_workcontext(document, NOW)

    assert pod.workcontext() == document
    assert "compact" not in pod.read_state()["versions"][-1]


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(),
              st.text(), st.sampled_from(["null", "true", "1.5e3", '"', "\\", "\x7f",
                                          "\u2028", "\ud800", "\x00", "é"])),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=12)


@settings(max_examples=500, deadline=None)
@given(JSON_VALUES)
def test_the_compact_form_is_the_json_module_s_compact_writing_of_any_value(value):
    assert _outcome(compact_json, value) == _outcome(_json_module_compact, value)


def _json_module_compact(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _outcome(write, value):
    """The bytes written, or the error (a lone surrogate has no UTF-8 form)."""
    try:
        return write(value)
    except UnicodeEncodeError as exc:
        return type(exc)


def test_a_workcontext_is_written_compact_as_the_json_module_writes_it():
    document = full_workcontext("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK")

    assert compact_json(document) == json.dumps(
        document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
