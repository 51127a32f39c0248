"""Offline check of a holder's access view (``GET /api/v1/pod/inzage``).

Each item of the view carries the exact bytes of its log entry and an inclusion proof
in the signed checkpoint. A proof covers those bytes only, so the check also requires
every readable field of the item (who, when, which fields, for what, with what outcome)
to say exactly what the proven entry says, and every entry to be about one and the
same data subject. The requester's role, action and target come from the linked
access record, which the proof does not cover; the result names them as unproven.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from audit import Verifier
from audit.merkle import ProofError, leaf_hash, verify_inclusion
from audit.note import open_checkpoint

UNPROVEN = ("viewer", "requesterRole", "action", "target")
# readable field of a view item -> the entry's member it must equal
_FROM_ENTRY = {"organisation": "organisation", "purpose": "purpose",
               "fields": "fields", "outcome": "outcome", "reason": "reason",
               "processingActivity": "processing_activity"}


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


def check_view(view: dict, vkey: str) -> CheckedView:
    """Raises ``audit.NoteError`` for a bad checkpoint, ``ViewRejected`` for an entry
    that is not in it or not what the view says, and KeyError/TypeError/ValueError
    for something that is not an access view at all."""
    checkpoint = open_checkpoint(view["checkpoint"], Verifier.parse(vkey))
    subjects = set()
    for item in view["entries"]:
        index = item["index"]
        proof = [base64.b64decode(h, validate=True) for h in item["proof"]]
        raw = item["entry"].encode("utf-8")
        try:
            verify_inclusion(index, checkpoint.size, leaf_hash(raw), proof,
                             checkpoint.root)
        except ProofError:
            raise ViewRejected(f"entry {index} is not in the signed checkpoint") from None
        entry = json.loads(raw)
        for shown, member in _FROM_ENTRY.items():
            if item[shown] != entry[member]:
                raise ViewRejected(f"entry {index}: {shown} differs from the logged entry")
        if _second(item["occurredAt"]) != _second(entry["started_at"]):
            raise ViewRejected(f"entry {index}: occurredAt differs from the logged entry")
        subjects.add(entry["subject"])
    if len(subjects) > 1:
        raise ViewRejected("the entries are about more than one data subject")
    return CheckedView(len(view["entries"]), checkpoint.origin, checkpoint.size)


def _second(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(microsecond=0)
