"""What a holder does, end to end: the pod acts, and its signed documents are
delivered to the registry.

In the embedded default both run in this process, but a document still crosses as
JSON text, exactly as it would between two servers run by different parties.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from consent import Audience, Grant
from pod import UnlockedPod, VersionNotFound
from registry import Registry

from .wiring import System


def deliver(registry: Registry, document: dict[str, Any], now: datetime):
    """Send a signed document across the pod/registry boundary."""
    wire = json.loads(json.dumps(document))
    if wire.get("type") == "Withdrawal":
        return registry.receive_withdrawal(wire, now)
    return registry.receive_disclosure(wire, now)


@dataclass(frozen=True, slots=True)
class Saved:
    version: int
    published: int


def save_workcontext(system: System, pod: UnlockedPod, document: Any,
                     now: datetime) -> Saved:
    """Validate, store a new version, and re-publish every live grant."""
    system.validator.validate(document, holder_id=pod.did)
    version = pod.save_workcontext(document, now)
    published = 0
    for disclosure in pod.live_disclosures(now):
        deliver(system.registry, disclosure, now)
        published += 1
    return Saved(version, published)


def grant_consent(system: System, pod: UnlockedPod, audience: Any, purposes: list[str],
                  fields: list[str], valid_until: datetime, now: datetime) -> Grant:
    """Record a grant in the pod and publish the disclosure it allows."""
    parsed = Audience.from_json(audience)
    parsed.check_known(system.reference)
    if pod.workcontext() is None:
        raise VersionNotFound(0)
    grant = pod.add_grant(parsed, purposes, fields, valid_until, now)
    deliver(system.registry, pod.disclosure(grant, now), now)
    return grant


def withdraw_consent(system: System, pod: UnlockedPod, grant_id: str,
                     now: datetime) -> None:
    """One action: mark withdrawn in the pod, delete the projection in the registry."""
    deliver(system.registry, pod.withdraw(grant_id, now), now)
