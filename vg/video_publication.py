"""The intro video in a published disclosure: what the registry is shown, and the
copy it is given.

The Workcontext a holder keeps names the video by its address in the pod, which
only the holder's session opens and which carries the pod id. What a grant of
``intro_video`` discloses is the registry's address of a copy made for that grant
instead (consent/video_share.py): opaque, naming neither the pod nor the holder.
After the registry took the disclosure, the pod hands it the copy, unless it holds
it already (the same video under the same grant).

A copy the registry does not take (unavailable, over its ceiling) does not undo
the disclosure: the address then answers 404 until the grant is published again,
which offers the copy again. The holder's grant stays as they made it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consent import ConsentError, Grant
from consent.video_share import share_address
from pod import PodError, UnlockedPod
from pod.binaries import BinaryInfo
from pod.video_share import intro_video, share_copy, share_id
from registry import RegistryError

from .wiring import System

log = logging.getLogger("vg.video_publication")
FIELD = "intro_video"


@dataclass(frozen=True, slots=True)
class SharedVideo:
    """How one grant's disclosure shows the intro video, and the copy behind it."""

    present: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    share: str | None = None
    video: BinaryInfo | None = None


def prepare(system: System, pod: UnlockedPod, grant: Grant) -> SharedVideo:
    """Nothing to do for a grant without ``intro_video``; otherwise the address of
    the grant's copy of the pod's own video. A Workcontext that names any other
    video (one elsewhere, or a copy the registry holds for someone else) or one
    in this pod that is not there discloses none: the registry can vouch only
    for a copy the holder's pod made, and an address into the pod never leaves it."""
    if FIELD not in grant.fields:
        return SharedVideo()
    video = intro_video(pod)
    pod_id = system.pods.pod_id(pod.did)
    if video is None or system.registry.video_share_key() is None:
        return SharedVideo(_without_video)
    share = share_id(pod, grant.id, video)
    address = share_address(system.settings.public_base(), share)
    return SharedVideo(lambda document: _shown(document, address, video, pod_id),
                       share, video)


def hand_over(system: System, pod: UnlockedPod, grant: Grant, shared: SharedVideo,
              now: datetime) -> bool:
    """Give the registry the copy the delivered disclosure names, if it does not
    hold it yet; returns whether it holds it now."""
    if shared.share is None or shared.video is None:
        return False
    registry = system.registry
    if registry.holds_video_share(shared.share):
        return True
    offer, chunks = share_copy(pod, shared.video, grant.id, shared.share,
                               registry.video_share_key(), now)
    try:
        registry.receive_video_share(json.loads(json.dumps(offer)), chunks, now)
    except (RegistryError, ConsentError, PodError) as exc:
        log.warning("the intro video was not shared: %s", type(exc).__name__)
        return False
    return True


def _shown(document: dict[str, Any], address: str, video: BinaryInfo,
           pod_id: str) -> dict[str, Any]:
    named = document.get("introVideo")
    if not isinstance(named, dict) or not _names_pod(named, pod_id):
        return _without_video(document)
    return {**document, "introVideo": {**named, "contentUrl": address,
                                       "encodingFormat": video.media_type}}


def _without_video(document: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k != "introVideo"}


def _names_pod(named: dict[str, Any], pod_id: str) -> bool:
    url = named.get("contentUrl")
    return isinstance(url, str) and f"/pods/{pod_id}/" in url
