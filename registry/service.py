"""The registry as one object: the parts wired together for the API and the CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from datetime import datetime
from typing import Any, TypeVar, overload

from sqlalchemy import Connection, Engine

from audit import AuditLog
from schemas import WorkcontextValidator

from . import cursor as cursors
from .access import Access
from .assignments import (
    RANKABLE,
    Assignments,
    AssignmentSpec,
    StoredAssignment,
    require_rankable,
)
from .bulk import BulkIngest
from .circles import Circles
from .db import transaction
from .errors import Forbidden, InvalidTransition, StorageFailed
from .errors_work import CandidateNotFound
from .employment import Employment
from .erasure import Erased, Erasure
from .gate import ConsentGate, Requester, VisibleProfile
from .ingest import Accepted, Ingest
from .matching import MATCH_ACTIVITY, Matcher, Ranked, Scored
from .org_pseudonyms import OrgPseudonyms
from .relations import SkillRelations
from .policies import Policies
from .video_access import VIDEO_ACTION, VIDEO_PURPOSES, VideoAccess
from .video_shares import VideoShares

T = TypeVar("T")
MATCHING = "matching"
MAX_PAGE = 100
_RANK_ATTEMPTS = 3
CANDIDATES_ACTION = "assignment-candidates"
# Which purposes each logged action serves: the audit log flags any other.
ACTION_PURPOSES = {CANDIDATES_ACTION: frozenset({MATCHING}),
                   VIDEO_ACTION: VIDEO_PURPOSES}


@dataclass(frozen=True, slots=True)
class CandidatePage:
    assignment: StoredAssignment
    candidates: list[Ranked]
    total: int
    next_cursor: str | None = None


class Registry:
    def __init__(self, engine: Engine, reference, audit: AuditLog,
                 pseudonym_secret: bytes,
                 validator: WorkcontextValidator | None = None,
                 video_shares: VideoShares | None = None):
        tooi = {o.tooi_uri: code for code, o in reference.organisations.items()}
        self.engine = engine
        self.reference = reference
        self.access = Access(engine)
        self.policies = Policies(engine, reference, tooi)
        self.ingest = Ingest(engine, reference, tooi, pseudonym_secret,
                             validator=validator, policies=self.policies)
        self.bulk = BulkIngest(engine, reference, tooi, pseudonym_secret,
                               policies=self.policies)
        self.erasure = Erasure(engine, pseudonym_secret)
        self.gate = ConsentGate(engine, reference, audit)
        self.assignments = Assignments(engine, reference)
        self.relations = SkillRelations.of(reference)
        self.circles = Circles(reference)
        self.employment = Employment(engine, pseudonym_secret, self.policies)
        # The name each organisation knows a holder by (org_pseudonyms.py).
        self.org_pseudonyms = OrgPseudonyms(pseudonym_secret)
        # Copies of intro videos shared under grants; without a store (a
        # registry built for one command) no video is taken or served.
        self.videos = VideoAccess(engine, self.gate, video_shares,
                                  self.org_pseudonyms)
        self._match_index = None

    @property
    def match_index(self):
        """This process's copy of the match index, kept in step with the database
        by every query (``registry.match_memory``). Made on the first ranking, so
        a process that never ranks (a pod server) never loads numpy."""
        if self._match_index is None:
            from .match_memory import MatchIndex

            self._match_index = MatchIndex(self.engine, MATCHING)
        return self._match_index

    def receive_disclosure(self, document: Any, now: datetime) -> Accepted:
        accepted = self.ingest.disclosure(document, now)
        if accepted.videos_dropped:
            self.sweep_videos()
        return accepted

    def check_workcontext(self, document: Any, holder: str) -> None:
        """Refuse a Workcontext this registry would refuse in any projection."""
        self.ingest.check_workcontext(document, holder)

    def receive_withdrawal(self, document: Any, now: datetime) -> str:
        withdrawn = self.ingest.withdrawal(document, now)
        self.sweep_videos()
        return withdrawn

    def receive_erasure(self, document: Any, now: datetime) -> Erased:
        erased = self.erasure.erase(document, now)
        self.sweep_videos()
        return erased

    def receive_video_share(self, document: Any, chunks: Iterable[bytes],
                            now: datetime) -> str:
        """Take the copy of an intro video a signed disclosure names."""
        if self.videos.shares is None:
            raise StorageFailed()
        return self.videos.shares.receive(document, chunks, now)

    def holds_video_share(self, share: str) -> bool:
        return self.videos.shares is not None and self.videos.shares.holds(share)

    def video_share_key(self) -> bytes | None:
        """The public key pods seal copies of videos to (None: no store)."""
        return None if self.videos.shares is None else self.videos.shares.public_key

    def sweep_videos(self) -> int:
        """Remove the files of copies whose rows (and data keys) are gone."""
        return 0 if self.videos.shares is None else self.videos.shares.sweep()

    def last_sequence(self, did: str) -> int:
        """The highest sequence number taken from the holder here, an erased
        holder's erasure included; 0 for a holder never seen. A pod that moves
        in signs above it, or its documents would be refused as replays."""
        return self.ingest.last_sequence(did)

    def create_assignment(self, requester: Requester, spec: AssignmentSpec,
                          now: datetime, status: str = "open") -> StoredAssignment:
        _require_staff(requester, "create assignments")
        return self.assignments.create(requester.organisation, spec, now, status)

    def change_assignment(self, requester: Requester, assignment_id: int, action: str,
                          now: datetime) -> StoredAssignment:
        _require_staff(requester, "change assignments")
        return self.assignments.transition(requester.organisation, assignment_id,
                                           action, now)

    def pass_candidate(self, requester: Requester, assignment_id: int, subject: str,
                       now: datetime) -> None:
        """Leave a candidate out of this assignment's lists. Only a candidate the
        organisation may see for matching can be passed (as a swipe): a pass can
        not probe for people outside the audience nor fill the table with
        invented pseudonyms."""
        _require_staff(requester, "pass on candidates")
        require_rankable(self.assignments.get(requester.organisation, assignment_id),
                         "pass candidates for")
        if not self.gate.visible(requester, MATCHING, now, pseudonyms=[subject]):
            raise CandidateNotFound(subject)
        self.assignments.pass_on(requester.organisation, assignment_id, subject, now)

    @overload
    def candidates(self, requester: Requester, assignment_id: int, now: datetime,
                   trace_id: str, limit: int = 10, cursor: str | None = None,
                   render: None = None) -> CandidatePage: ...

    @overload
    def candidates(self, requester: Requester, assignment_id: int, now: datetime,
                   trace_id: str, limit: int = 10, cursor: str | None = None, *,
                   render: Callable[[CandidatePage], T]) -> T: ...

    def candidates(self, requester: Requester, assignment_id: int, now: datetime,
                   trace_id: str, limit: int = 10, cursor: str | None = None,
                   render: Callable[[CandidatePage], T] | None = None
                   ) -> CandidatePage | T:
        """One page of ranked candidates; those returned are logged before they are
        returned, and only they: the rest of the ranking is never shown. A refusal
        is logged as a decision.

        With ``render``, what it makes of the page (the response) is returned
        instead of the page: it runs while the page's audit records are being
        committed, and is returned only once they are durable (invariant 4)."""
        try:
            _require_staff(requester, "view candidates")
        except Forbidden:
            self.gate.refuse(requester, now, trace_id, CANDIDATES_ACTION,
                             f"assignment {assignment_id}", "role may not view "
                             "candidates", purpose=MATCHING, activity=MATCH_ACTIVITY)
            raise
        after = cursors.decode(cursor) if cursor else None
        size = max(1, min(limit, MAX_PAGE))
        # The assignment and the page are read in one transaction (one check-out
        # and one commit on PostgreSQL), closed before the audit log is written.
        with transaction(self.engine) as conn:
            assignment = self.assignments.get(requester.organisation, assignment_id,
                                              conn)
            if assignment.status not in RANKABLE:
                raise InvalidTransition(assignment.id, assignment.status,
                                        "rank candidates for")
            ranked, total, profiles = self._ranked(requester, assignment, now,
                                                   size + 1, after, conn)
        page = ranked[:size]
        shown = [Ranked(profiles[s.pseudonym], s.score, s.reasons) for s in page]
        more = len(ranked) > len(page)
        result = CandidatePage(assignment, shown, total,
                               cursors.encode(page[-1].score, page[-1].pseudonym)
                               if more else None)
        logged = dict(reason=f"candidate for assignment {assignment.id}",
                      action=CANDIDATES_ACTION, target=f"assignment {assignment.id}")
        profiles_shown = [r.profile for r in shown]
        if render is None:
            self.gate.disclose(requester, MATCHING, profiles_shown, now, trace_id,
                               MATCH_ACTIVITY, **logged)
            return result
        return self.gate.disclose_while(requester, MATCHING, profiles_shown, now,
                                        trace_id, MATCH_ACTIVITY, **logged,
                                        answer=lambda: render(result))

    def rank(self, requester: Requester, assignment: StoredAssignment,
             now: datetime, limit: int | None = None,
             after: tuple[int, str] | None = None) -> list[Scored]:
        """The ranking (or its first ``limit`` after the cursor position ``after``),
        as pseudonyms, scores and reasons: nothing is shown."""
        return self.ranked(requester, assignment, now, limit, after)[0]

    def ranked(self, requester: Requester, assignment: StoredAssignment,
               now: datetime, limit: int | None,
               after: tuple[int, str] | None) -> tuple[list[Scored], int]:
        """A page of the ranking and the number of candidates in all of it."""
        with transaction(self.engine) as conn:
            return self._ranked(requester, assignment, now, limit, after, conn)[:2]

    def _ranked(self, requester: Requester, assignment: StoredAssignment,
                now: datetime, limit: int | None, after: tuple[int, str] | None,
                conn: Connection) -> tuple[list[Scored], int,
                                           dict[str, VisibleProfile]]:
        """The page, the total, and the profiles of the page read with it.

        Every candidate is scored in memory (``registry.match_scoring``) on the
        rows the gate admits; the page is then read again through the gate from
        the database in one query (``ConsentGate.page``), and ``Matcher`` gives
        its reasons on the columns of the very rows whose profiles are shown. A
        page candidate whose score there differs (a change committed after this
        query's sync) makes the ranking run again on the newer state; one that
        still differs after that is left out, so that a field no longer
        consented can not place anyone, and a holder who withdrew is not shown.

        Every read goes through ``conn``, the caller's transaction, which only
        reads: on PostgreSQL each of its statements sees what has committed
        when it starts (read committed), so a later attempt sees the newer
        state as it would in a transaction of its own."""
        from .match_scoring import rank as rank_in_memory

        matcher = Matcher(assignment, self.relations, self.circles)
        wanted = matcher.skills_to_look_for()
        ties = partial(self.org_pseudonyms.tie_keys, requester.organisation)
        for attempt in range(_RANK_ATTEMPTS):
            rankable = self.gate.rankable(requester, MATCHING, now, conn=conn)
            passed = self.assignments.passed(assignment.id, conn)
            with self.match_index.locked(conn) as index:
                ranking = rank_in_memory(index, matcher, rankable, passed, after,
                                         limit, ties)
            signals, profiles = self.gate.page(
                requester, MATCHING, now, wanted, [p for p, _ in ranking.page],
                decided=rankable, conn=conn) if ranking.page else ([], [])
            checked = {s.pseudonym: matcher.score(s) for s in signals}
            if all(checked[p].score == score for p, score in ranking.page
                   if p in checked) or attempt == _RANK_ATTEMPTS - 1:
                break
        shown = {p.pseudonym: p for p in profiles}
        scored = [Scored(p, score, checked[p].reasons) for p, score in ranking.page
                  if p in checked and checked[p].score == score and p in shown]
        return scored, ranking.total, shown


def _require_staff(requester: Requester, action: str) -> None:
    if requester.role != "staff":
        raise Forbidden(action)
