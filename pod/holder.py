"""An unlocked pod: what the holder can do while their keys are in memory.

The pod keeps the full, private Workcontext and every grant the holder made. It hands
out signed disclosures and withdrawals; it never talks to a registry itself (the
composition layer delivers the documents, as a network would).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from consent import (
    Audience,
    Grant,
    HolderKey,
    format_time,
    grant_from_json,
    make_disclosure,
    make_withdrawal,
    new_grant,
)

from . import crypto
from .errors import GrantNotFound, GrantNotLive, VersionNotFound
from .files import atomic_write, pod_lock


@dataclass(frozen=True, slots=True)
class VersionInfo:
    version: int
    saved: str


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """A grant as the pod keeps it. ``pending`` is set while a withdrawal is on its
    way to the registry: from then on the pod publishes nothing under the grant."""

    grant: Grant
    withdrawn: str | None
    pending: str | None = None

    def is_live(self, now: datetime) -> bool:
        return self.withdrawn is None and self.pending is None and self.grant.is_live(now)


class UnlockedPod:
    def __init__(self, directory: Path, did: str, kek: bytes, seed: bytes,
                 content_key: bytes):
        self.directory = directory
        self.did = did
        self.kek = kek
        self._key = HolderKey(seed)
        self._content = content_key

    # -- state -----------------------------------------------------------------
    def initialise_state(self, now: datetime) -> None:
        with pod_lock(self.directory):
            self._write_state({"versions": [], "grants": [], "sequence": 0})

    def _read_state(self) -> dict:
        blob = (self.directory / "state.bin").read_bytes()
        return json.loads(crypto.open_sealed(self._content, blob, self._ad("state")))

    def _write_state(self, state: dict) -> None:
        blob = crypto.seal(self._content, json.dumps(state).encode(), self._ad("state"))
        atomic_write(self.directory / "state.bin", blob)

    def _ad(self, *parts: object) -> bytes:
        return "|".join(["vg-pod", self.did, *map(str, parts)]).encode("utf-8")

    # -- Workcontext -----------------------------------------------------------
    def workcontext(self) -> dict[str, Any] | None:
        versions = self.versions()
        return self.version(versions[-1].version) if versions else None

    def versions(self) -> list[VersionInfo]:
        return [VersionInfo(**v) for v in self._read_state()["versions"]]

    def version(self, number: int) -> dict[str, Any]:
        path = self.directory / "versions" / f"{number:06d}.bin"
        if not any(v.version == number for v in self.versions()) or not path.exists():
            raise VersionNotFound(number)
        plain = crypto.open_sealed(self._content, path.read_bytes(),
                                   self._ad("workcontext", number))
        return json.loads(plain)

    def save_workcontext(self, document: dict[str, Any], now: datetime) -> int:
        """Store a new version. The caller validates it first (schemas)."""
        with pod_lock(self.directory):
            state = self._read_state()
            number = (state["versions"][-1]["version"] if state["versions"] else 0) + 1
            blob = crypto.seal(self._content, json.dumps(document).encode("utf-8"),
                               self._ad("workcontext", number))
            atomic_write(self.directory / "versions" / f"{number:06d}.bin", blob)
            state["versions"].append({"version": number, "saved": format_time(now)})
            self._write_state(state)
        return number

    # -- grants ----------------------------------------------------------------
    def grants(self) -> list[GrantRecord]:
        return [
            GrantRecord(grant_from_json(g["grant"]), g["withdrawn"], g.get("pending"))
            for g in self._read_state()["grants"]
        ]

    def grant(self, grant_id: str) -> GrantRecord:
        for record in self.grants():
            if record.grant.id == grant_id:
                return record
        raise GrantNotFound(grant_id)

    def sign_grant(self, audience: Audience, purposes: list[str], fields: list[str],
                   valid_until: datetime, now: datetime,
                   valid_from: datetime | None = None,
                   renews: str | None = None) -> Grant:
        """A new grant signed by the holder, not yet recorded in the pod."""
        grant = new_grant(self.did, audience, purposes, fields, valid_until, now,
                          valid_from=valid_from, renews=renews)
        return grant.signed_by(self._key)

    def store_grant(self, grant: Grant) -> None:
        with pod_lock(self.directory):
            state = self._read_state()
            state["grants"].append({"grant": grant.to_json(), "withdrawn": None})
            self._write_state(state)

    def add_grant(self, audience: Audience, purposes: list[str], fields: list[str],
                  valid_until: datetime, now: datetime) -> Grant:
        grant = self.sign_grant(audience, purposes, fields, valid_until, now)
        self.store_grant(grant)
        return grant

    # -- publication -----------------------------------------------------------
    def disclosure(self, grant: Grant, now: datetime) -> dict[str, Any]:
        """A signed disclosure of the current Workcontext under ``grant``.

        Refused for a grant the pod records as withdrawn or being withdrawn; the
        check and the sequence number are taken under one lock, so a publication
        racing a withdrawal either precedes it or does not happen.
        """
        document = self.workcontext()
        if document is None:
            raise VersionNotFound(0)
        with pod_lock(self.directory):
            state = self._read_state()
            entry = _entry(state, grant.id)
            if entry is not None and (entry["withdrawn"] or entry.get("pending")):
                raise GrantNotLive(grant.id)
            sequence = self._advance_sequence(state)
        return make_disclosure(document, grant, sequence, self._key, now)

    def live_disclosures(self, now: datetime) -> list[dict[str, Any]]:
        """One disclosure per live grant: what to publish after the Workcontext changed."""
        return [self.disclosure(r.grant, now) for r in self.grants() if r.is_live(now)]

    def withdrawal(self, grant_id: str, now: datetime) -> dict[str, Any]:
        """The signed withdrawal of one of this pod's grants, to deliver first. The
        grant is marked pending, so nothing more is published under it."""
        with pod_lock(self.directory):
            state = self._read_state()
            entry = _entry(state, grant_id)
            if entry is None:
                raise GrantNotFound(grant_id)
            if not entry["withdrawn"]:
                entry["pending"] = entry.get("pending") or format_time(now)
            sequence = self._advance_sequence(state)
        return make_withdrawal(grant_id, sequence, self._key, now)

    def mark_withdrawn(self, grant_id: str, now: datetime) -> None:
        """Record that the registry took the withdrawal."""
        with pod_lock(self.directory):
            state = self._read_state()
            entry = _entry(state, grant_id)
            if entry is None:
                raise GrantNotFound(grant_id)
            entry["withdrawn"] = entry["withdrawn"] or format_time(now)
            entry.pop("pending", None)
            self._write_state(state)

    def withdraw(self, grant_id: str, now: datetime) -> dict[str, Any]:
        """Mark a grant withdrawn and return the signed withdrawal to deliver."""
        document = self.withdrawal(grant_id, now)
        self.mark_withdrawn(grant_id, now)
        return document

    def _advance_sequence(self, state: dict) -> int:
        """Take the next sequence number and persist it with ``state`` (under lock)."""
        state["sequence"] += 1
        self._write_state(state)
        return state["sequence"]


def _entry(state: dict, grant_id: str) -> dict | None:
    return next((g for g in state["grants"] if g["grant"]["id"] == grant_id), None)
