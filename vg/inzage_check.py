"""Offline check of a holder's access view (``GET /api/v1/pod/inzage``).

Each item of the view carries the exact bytes of its log entry and an inclusion proof
in the signed checkpoint. A proof covers those bytes only, so the check also requires
every readable field of the item (who, when, which fields, for what, with what outcome)
to say exactly what the proven entry says, and every entry to be about one and the
same data subject. The requester's role, action and target come from the linked
access record, which the proof does not cover; the result names them as unproven.

The view is a file anyone may hand the holder, and each entry's text is parsed
too: both are read by ``read_json``, which refuses a text nested deeper than a view
ever is before the parser (which recurses per level) sees it.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audit import Verifier
from audit.merkle import ProofError, leaf_hash, verify_inclusion
from audit.note import open_checkpoint

UNPROVEN = ("viewer", "requesterRole", "action", "target")
# readable field of a view item -> the entry's member it must equal
_FROM_ENTRY = {"organisation": "organisation", "purpose": "purpose",
               "fields": "fields", "outcome": "outcome", "reason": "reason",
               "processingActivity": "processing_activity"}
MAX_DEPTH = 16  # a view is nested four levels deep, an entry two
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET = re.compile(r"[\[\]{}]")


class ViewRejected(ValueError):
    """The view does not match the log; the message says which entry and why."""


@dataclass(frozen=True, slots=True)
class CheckedView:
    entries: int
    origin: str
    size: int

    def to_json(self) -> dict:
        return {"ok": True, "entries": self.entries, "origin": self.origin,
                "size": self.size, "unproven": list(UNPROVEN)}


class TooDeep(ValueError):
    """A JSON text nested deeper than ``MAX_DEPTH``: no view, and no entry."""

    def __init__(self) -> None:
        super().__init__(f"nested deeper than {MAX_DEPTH} levels")


def read_json(text: str | bytes) -> Any:
    """``json.loads``, refusing (``TooDeep``, a ValueError) a text nested deeper
    than ``MAX_DEPTH`` before parsing it. The brackets are counted outside the
    string literals, in the order the parser meets them."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub("", text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_DEPTH:
            raise TooDeep()
    return json.loads(text)


def check_view(view: dict, vkey: str) -> CheckedView:
    """Raises ``audit.NoteError`` for a bad checkpoint, ``ViewRejected`` for an entry
    that is not in it or not what the view says, and KeyError/TypeError/ValueError
    for something that is not an access view at all."""
    checkpoint = open_checkpoint(_text(view["checkpoint"]), Verifier.parse(vkey))
    subjects = set()
    for item in view["entries"]:
        index = item["index"]
        proof = [base64.b64decode(h, validate=True) for h in item["proof"]]
        raw = _text(item["entry"]).encode("utf-8")
        try:
            verify_inclusion(index, checkpoint.size, leaf_hash(raw), proof,
                             checkpoint.root)
        except ProofError:
            raise ViewRejected(f"entry {index} is not in the signed checkpoint") from None
        entry = read_json(raw)
        for shown, member in _FROM_ENTRY.items():
            if item[shown] != entry[member]:
                raise ViewRejected(f"entry {index}: {shown} differs from the logged entry")
        if _second(item["occurredAt"]) != _second(entry["started_at"]):
            raise ViewRejected(f"entry {index}: occurredAt differs from the logged entry")
        subjects.add(entry["subject"])
    if len(subjects) > 1:
        raise ViewRejected("the entries are about more than one data subject")
    return CheckedView(len(view["entries"]), checkpoint.origin, checkpoint.size)


def _second(text: object) -> datetime:
    return datetime.fromisoformat(_text(text).replace("Z", "+00:00")).replace(
        microsecond=0)


def _text(value: object) -> str:
    """``value`` where the view holds a text; anything else is no access view."""
    if not isinstance(value, str):
        raise TypeError(f"a text was expected, not {type(value).__name__}")
    return value
