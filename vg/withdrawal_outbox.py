"""Withdrawals the registry could not take when the holder withdrew, kept by the
server and delivered again until it takes them.

A withdrawal is immediate (GDPR art. 7(3)): when the registry is unavailable at
that moment, the pod records the grant as being withdrawn and the holder is told
so, and the signed withdrawal document goes here, one file per document. The
server sends every kept document again once a minute (``vg.app``) without the
holder: only the holder's key signs one, and the pod is locked by then. The
pod sends its own again whenever it is opened (``holder_flows.retry_withdrawals``);
the registry takes a withdrawal as often as it comes, so both may arrive.

A file holds what the registry receives anyway (the did, the grant's id, the
signature), no field of the Workcontext.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from consent import ConsentError
from pod.files import atomic_write
from registry import Registry, RegistryError
from schemas import SchemaError

log = logging.getLogger("vg.withdrawal_outbox")


class WithdrawalOutbox:
    def __init__(self, directory: Path):
        self.directory = directory

    def keep(self, document: dict[str, Any]) -> None:
        """Keep a signed withdrawal to deliver later (durably: written, synced)."""
        body = json.dumps(document, sort_keys=True).encode("utf-8")
        name = hashlib.sha256(body).hexdigest()[:40] + ".json"
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        atomic_write(self.directory / name, body)

    def pending(self) -> list[Path]:
        return sorted(self.directory.glob("*.json")) if self.directory.exists() else []

    def deliver_all(self, registry: Registry, now: datetime) -> int:
        """Send every kept withdrawal; returns how many the registry could still
        not take (kept for the next round). One it refuses for good (a document
        signed before the holder's erasure here) is dropped: sending it again
        would change nothing."""
        left = 0
        for path in self.pending():
            try:
                document = json.loads(path.read_bytes())
                registry.receive_withdrawal(document, now)
            except RegistryError as exc:
                if type(exc).status >= 500:
                    left += 1
                    continue
                log.warning("kept withdrawal refused: %s", type(exc).code)
            except (ConsentError, SchemaError, OSError, ValueError) as exc:
                log.warning("kept withdrawal dropped: %s", type(exc).__name__)
            path.unlink(missing_ok=True)
        return left
