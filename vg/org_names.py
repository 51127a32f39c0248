"""The boundary where the registry's pseudonym of a holder becomes the name one
organisation knows them by, and back (registry/org_pseudonyms.py says why).

Everything an organisation's staff, API clients and DPO are shown passes through
here on its way out: candidate pages and their cursors, swipes, matches, contact
details, team pages, the access log, the address of an intro video. Every name they
send back is turned into the registry's pseudonym here on its way in, under the key
of the caller's organisation: a name shown to another organisation is an unknown
person. Holders (for themselves) and the platform DPO keep the registry's pseudonym.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

from audit import AuditRecord, Flag
from consent.keys import b64url_decode
from consent.video_share import share_address, share_in
from registry import InvalidCursor, Requester
from registry import cursor as cursors
from registry.org_pseudonyms import is_name

from .audit_filters import MUST, FilterRefused, Names
from .wiring import System

MAX_CURSOR = 200
PLATFORM_DPO = "platform-dpo"
_HEX = frozenset("0123456789abcdef")


def shown(system: System, organisation: str, pseudonym: str) -> str:
    return system.org_pseudonyms.shown(organisation, pseudonym)


def named(system: System, organisation: str, name: str,
          unknown: Callable[[str], Exception] | None = None) -> str:
    """The registry's pseudonym for ``name`` as ``organisation`` wrote it; a name it
    was never shown is answered as an unknown person (``unknown``)."""
    if unknown is None:
        return system.org_pseudonyms.named(organisation, name)
    return system.org_pseudonyms.named(organisation, name, unknown)


def cursor_out(system: System, organisation: str, cursor: str | None) -> str | None:
    """A page cursor as the organisation gets it: the score and the name of the last
    candidate shown, never the registry's pseudonym."""
    if cursor is None:
        return None
    score, pseudonym = cursors.decode(cursor)
    raw = json.dumps([score, shown(system, organisation, pseudonym)],
                     separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_in(system: System, organisation: str, cursor: str | None) -> str | None:
    """The registry's cursor for one the organisation sends back; anything that is
    not a cursor this organisation was given is one invalid cursor (400)."""
    if cursor is None:
        return None
    if len(cursor) > MAX_CURSOR:
        raise InvalidCursor()
    try:
        score, name = json.loads(b64url_decode(cursor))
    except (ValueError, TypeError):
        raise InvalidCursor() from None
    if not isinstance(score, int) or isinstance(score, bool) or not is_name(name):
        raise InvalidCursor()
    pseudonym = named(system, organisation, name, lambda _: InvalidCursor())
    return cursors.encode(score, pseudonym)


def subject_json(system: System, organisation: str, found: dict) -> dict:
    """A profile's JSON (``registry.peers.profile_json``) with the viewer's names
    of the holder and of their intro video."""
    return {**found, "subject": shown(system, organisation, found["subject"]),
            "workcontext": workcontext_for(system, organisation,
                                           found["workcontext"])}


def video_address(system: System, organisation: str, share: str) -> str:
    """The name of the video copy ``share`` in ``organisation``'s address of it."""
    return system.registry.videos.address(organisation, share)


def workcontext_for(system: System, organisation: str, document: dict) -> dict:
    """A disclosed Workcontext as ``organisation`` is shown it: the intro video at
    that organisation's own address of the copy (registry/org_pseudonyms.py), as
    the share id the holder signed would be one thread through every
    organisation in the grant's audience."""
    video = document.get("introVideo")
    share = share_in(video.get("contentUrl")) if isinstance(video, dict) else None
    if share is None:
        return document
    address = share_address(system.settings.public_base(),
                            video_address(system, organisation, share))
    return {**document, "introVideo": {**video, "contentUrl": address}}


def records_for_dpo(system: System, viewer: Requester,
                    records: Iterable[AuditRecord]) -> list[AuditRecord]:
    """Access-log rows as ``viewer`` is shown them: to an organisation's DPO with
    its own names for the holders (the subject, and a holder acting as requester)
    and for the grants, to the platform DPO as stored. JSON and CSV are written
    from these."""
    if viewer.role == PLATFORM_DPO:
        return list(records)
    name = _namer(system, viewer.organisation)
    grants = _grant_namer(system, viewer.organisation)
    return [replace(r, entry=replace(r.entry, subject=name(r.entry.subject),
                                     grants=grants(r.entry.grants)),
                    access=r.access and replace(r.access, actor=name(r.access.actor)))
            for r in records]


def _grant_namer(system: System, organisation: str
                 ) -> Callable[[tuple[str, ...]], tuple[str, ...]]:
    """An entry's grant ids as ``organisation`` is shown them: one grant to many
    organisations has one id, which would join their logs (org_pseudonyms.py)."""
    def names(grants: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted(system.org_pseudonyms.grant_name(organisation, g)
                            for g in grants))
    return names


def flags_for_dpo(system: System, viewer: Requester,
                  found: Iterable[Flag]) -> list[Flag]:
    """Flags of unusual access, named as ``records_for_dpo`` names rows."""
    if viewer.role == PLATFORM_DPO:
        return list(found)
    name = _namer(system, viewer.organisation)
    named = [replace(f, subject=name(f.subject), requester=name(f.requester))
             for f in found]
    return _in_own_order(named)


def _in_own_order(found: list[Flag]) -> list[Flag]:
    """The repeated-views flags, which the log orders by requester and the
    registry's pseudonym of the subject, in the order of the names this DPO is
    shown instead, in the places they had: in the registry's order, two
    organisations' lists would follow one order of the same people."""
    places = [i for i, f in enumerate(found) if f.kind == "repeated-views"]
    ordered = sorted((found[i] for i in places),
                     key=lambda f: (f.requester or "", f.organisation,
                                    f.subject or ""))
    out = list(found)
    for i, flag in zip(places, ordered):
        out[i] = flag
    return out


def _namer(system: System, organisation: str) -> Callable[[Any], Any]:
    def name(value: Any) -> Any:
        if isinstance(value, str) and len(value) == 32 and set(value) <= _HEX:
            return shown(system, organisation, value)
        return value
    return name


def dpo_names(system: System, viewer: Requester) -> Names | None:
    """How a DPO names holders in a filter: the platform DPO by the registry's
    pseudonym (None: as the log stores it), an organisation's DPO by the names
    the log showed them; another organisation's name is refused like a mistyped
    one."""
    if viewer.role == PLATFORM_DPO:
        return None

    def read(value: str, parameter: str) -> str:
        def refused(_: str) -> Exception:
            return FilterRefused(parameter, MUST["name"], "name")
        if not is_name(value):
            raise refused(value)
        return named(system, viewer.organisation, value.lower(), refused)
    return read
