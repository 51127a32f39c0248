"""Sealed messages from the registry (ratings) delivered into the holder's pod inbox.

The registry only knows the port (``registry.InboxDelivery``); this adapter is where the
two sides meet in the embedded default. A pod kept on another server can not be reached
from here, so its messages wait in the file drop until that server collects them.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Callable

from pod import PodStore
from pod import inbox as pod_inbox
from registry import FileDropInbox

SENDER = "registry:ratings"


class PodInboxDelivery:
    def __init__(self, pods: PodStore, fallback: FileDropInbox,
                 clock: Callable[[], datetime] | None = None):
        self._pods = pods
        self._fallback = fallback
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    def deliver(self, holder_did: str, sealed: bytes) -> None:
        if not self._pods.exists(holder_did):
            self._fallback.deliver(holder_did, sealed)
            return
        pod_inbox.deliver(self._pods, holder_did, sealed,
                          SENDER, self._clock())
