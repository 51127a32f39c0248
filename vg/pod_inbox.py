"""Sealed messages from the registry (ratings) delivered into the holder's pod inbox.

The registry only knows the port (``registry.InboxDelivery``); this adapter is where the
two sides meet in the embedded default. A pod kept on another server can not be reached
from here, so its messages wait in the file drop until that server collects them.

Who may deliver into a pod: only this server, for the registry's ratings. The
registry decides who may rate whom (former members of a dissolved team, one rating
per rater, rated member and team); organisations have no route into a pod's inbox
(an open one let any staff key fill or spoil any holder's inbox, and told whether a
pod id exists). Each rating counts against its rater's quota in the inbox
(``pod.inbox.MAX_PER_ORIGIN``), kept under a tag keyed with the pod's server-held
shard, so it names no one on disk and the holder can not link two ratings to one
rater.
"""

from __future__ import annotations

import hashlib
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

    def deliver(self, holder_did: str, sealed: bytes, origin: str = "") -> None:
        if not self._pods.exists(holder_did):
            self._fallback.deliver(holder_did, sealed, origin)
            return
        pod_id = self._pods.pod_id(holder_did)
        key = hashlib.blake2b(self._pods.keyring.shard(pod_id), digest_size=32,
                              person=b"vg-inbox-key").digest()
        pod_inbox.deliver(self._pods, holder_did, sealed, SENDER, self._clock(),
                          origin=(key, origin or SENDER))
