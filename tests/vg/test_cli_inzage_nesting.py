"""``vg audit check-inzage`` reads a file the holder saved, or anyone handed them:
a file nested deeper than the JSON parser goes is one more file that is not an
access view, refused in one line with the exit status of every other refusal."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from audit import Signer
from audit.merkle import leaf_hash
from audit.note import Checkpoint
from vg.cli import app

VKEY = "localhost/virtuele-gemeente/auditlog+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"


def test_a_view_nested_past_the_parser_is_refused_as_not_an_access_view(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)

    answer = CliRunner().invoke(app, ["audit", "check-inzage", str(deep),
                                      "--vkey", VKEY])

    assert answer.exit_code == 2, answer.output
    assert "is not an access view" in answer.output
    assert "RecursionError" not in answer.output


def _signed_view(tmp_path, raw: str, **item: object):
    """A view of one entry ``raw``, in a checkpoint of one leaf signed with a key of
    the test's own, so that the entry's text is read after its proof passed."""
    signer = Signer("localhost/test", bytes(range(32)))
    note = signer.sign(Checkpoint("localhost/test", 1,
                                  leaf_hash(raw.encode())).text())
    view = tmp_path / "view.json"
    view.write_text(json.dumps({"checkpoint": note, "entries": [
        {"index": 0, "proof": [], "entry": raw, **item}]}))
    return view, signer.verifier.vkey()


def test_an_entry_nested_past_the_parser_is_refused_as_not_an_access_view(tmp_path):
    view, vkey = _signed_view(tmp_path, "[" * 100_000 + "]" * 100_000)

    answer = CliRunner().invoke(app, ["audit", "check-inzage", str(view),
                                      "--vkey", vkey])

    assert answer.exit_code == 2, answer.output
    assert "is not an access view" in answer.output


@pytest.mark.parametrize("changes", [{"checkpoint": 5}, {"entry": 5},
                                     {"occurredAt": 5}])
def test_a_number_where_a_view_holds_a_text_is_refused_as_not_an_access_view(
        tmp_path, changes):
    entry = {"organisation": "GM0363", "purpose": "matching", "fields": [],
             "outcome": "disclosed", "reason": "r", "processing_activity": "p",
             "started_at": "2026-12-01T00:00:00Z", "subject": "s"}
    shown = {"organisation": "GM0363", "purpose": "matching", "fields": [],
             "outcome": "disclosed", "reason": "r", "processingActivity": "p",
             "occurredAt": "2026-12-01T00:00:00Z"}
    view, vkey = _signed_view(tmp_path, json.dumps(entry), **shown)
    document = json.loads(view.read_text())
    target = document if "checkpoint" in changes else document["entries"][0]
    target.update(changes)
    view.write_text(json.dumps(document))

    answer = CliRunner().invoke(app, ["audit", "check-inzage", str(view),
                                      "--vkey", vkey])

    assert answer.exit_code == 2, (answer.output, answer.exception)
    assert "is not an access view" in answer.output
