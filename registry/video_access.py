"""Organisations watching an intro video a holder shared under a grant.

The copy is served through the consent gate like every other field: the
disclosure under the share's grant must be live, for the declared purpose, with an
audience that contains the requesting organisation, and must grant ``intro_video``
and name this share (invariants 1-3). Staff watch for matching, or for teamwork
while the holder is an active member of one of their active teams. Every access, each byte range included, is
appended to the audit log before the first byte leaves (invariant 4): a browser
that scrubs through a video asks for several ranges, and each one shows the video.

Staff ask by their organisation's own address of the copy (org_pseudonyms.py,
``video_name``), never by the share id every organisation in the audience would
share: an address shown to another organisation is a video that is not there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from sqlalchemy import Engine

from .errors import Forbidden, VideoNotFound
from .gate import ConsentGate, Requester
from .matching import MATCH_ACTIVITY
from .org_pseudonyms import OrgPseudonyms
from .peers import KNOWLEDGE_ACTIVITY
from .teams import TEAM_ACTIVITY, TEAMWORK, in_active_team_of
from .video_shares import StoredShare, VideoShares, named_share

T = TypeVar("T")
VIDEO_ACTION = "intro-video"
# The purposes a grant of intro_video may name (schemas/catalogue.py), each with
# the processing activity it belongs to in the records of processing.
VIDEO_ACTIVITIES = {"matching": MATCH_ACTIVITY, "teamwork": TEAM_ACTIVITY,
                    "knowledge_sharing": KNOWLEDGE_ACTIVITY}
VIDEO_PURPOSES = frozenset(VIDEO_ACTIVITIES)
# What staff may watch for: a candidate for matching, a member of one of their
# active teams for teamwork. A grant for knowledge_sharing is the holder's consent
# to colleagues (peers.py), not to the organisation's staff.
STAFF_PURPOSES = frozenset({"matching", TEAMWORK})


class VideoAccess:
    def __init__(self, engine: Engine, gate: ConsentGate, shares: VideoShares | None,
                 names: OrgPseudonyms):
        self._engine = engine
        self._gate = gate
        self.shares = shares
        self._names = names

    def address(self, organisation: str, share: str) -> str:
        """The name in ``organisation``'s address of the copy ``share``."""
        return self._names.video_name(organisation, share)

    def watch(self, requester: Requester, address: str, purpose: str, now: datetime,
              trace_id: str, check: Callable[[StoredShare], T]
              ) -> tuple[StoredShare, T]:
        """The copy at the requester's organisation's ``address`` if the requester
        may watch it for ``purpose`` now, logged as shown, with what ``check`` (the
        request's byte range, which may refuse) made of it after the log. Anything
        else is one VideoNotFound (an address of another organisation or none at
        all, a share that never was, one that ended, one for another audience or
        purpose, a team that ended); a role that may not watch is Forbidden, logged
        as a refusal."""
        if requester.role != "staff":
            self._gate.refuse(requester, now, trace_id, VIDEO_ACTION, "intro video",
                              "role may not watch intro videos", purpose=purpose)
            raise Forbidden("watch intro videos")
        share = self._names.video_share(requester.organisation, address)
        stored = (self.shares.stored(share)
                  if share is not None and self.shares is not None else None)
        if stored is None or purpose not in STAFF_PURPOSES:
            raise VideoNotFound(address)
        profile = self._gate.visible_grant(requester, purpose, now, stored.grant_id)
        if (profile is None
                or named_share(profile.fields, profile.workcontext) != share
                or (purpose == TEAMWORK and not in_active_team_of(
                    self._engine, requester.organisation, profile.pseudonym))):
            raise VideoNotFound(address)
        # Logged before the range is checked: a range past the end is answered
        # 416 with the video's size (RFC 9110 15.5.17), which is the holder's data
        # too, and a HEAD (headers only) stops here before it learns the size.
        shown = replace(profile, fields=frozenset({"intro_video"}))
        self._gate.disclose(requester, purpose, [shown], now, trace_id,
                            VIDEO_ACTIVITIES[purpose], reason="intro video watched",
                            action=VIDEO_ACTION, target="intro video")
        return stored, check(stored)
