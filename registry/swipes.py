"""Swipes on both sides, matches, and contact details after a match.

A project leader likes or passes a candidate for an assignment; a holder likes or
passes an assignment. A like on both sides is a match. Matching only suggests: every
swipe is a person's decision (GDPR art. 22). Contact details leave the registry only
after a match *and* under the holder's grant for purpose ``contact`` to this
organisation, and every such view is logged before it is shown (DESIGN.md inv. 4).
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Engine, and_, delete, insert, select

from .assignments import Assignments, StoredAssignment, require_rankable
from .db import transaction
from .errors import AssignmentNotOffered, AssignmentNotOpen, Forbidden
from .errors_work import CandidateNotFound, ContactNotGranted, InvalidWorkInput, NoMatch
from .gate import ConsentGate, Requester, VisibleProfile
from .tables import Assignment
from .tables_work import Swipe

T = Swipe.__table__
T_ASSIGNMENT = Assignment.__table__
DECISIONS = ("like", "pass")
MATCHING = "matching"
CONTACT = "contact"
CONTACT_FIELDS = frozenset({"email", "telephone"})
CONTACT_ACTIVITY = "https://w3id.org/virtuele-gemeente/register#contact-v1"
# A pseudonym is 32 hexadecimal digits (``pseudonym_for``), written in lower case.
PSEUDONYM = re.compile(r"[0-9a-fA-F]{32}")


class Swipes:
    def __init__(self, engine: Engine, gate: ConsentGate, assignments: Assignments):
        self._engine = engine
        self._gate = gate
        self._assignments = assignments

    # -- the organisation's side ---------------------------------------------------
    def by_organisation(self, requester: Requester, assignment_id: int, subject: str,
                        decision: str, now: datetime) -> None:
        """Only a candidate the organisation may see for matching can be swiped, so a
        swipe can not be used to probe for people outside the audience."""
        require_staff(requester, "swipe candidates")
        subject = checked_subject(subject)
        _check_decision(decision)
        require_rankable(self._assignments.get(requester.organisation, assignment_id),
                         f"{decision} candidates for")
        if not self._gate.visible(requester, MATCHING, now, pseudonyms=[subject]):
            raise CandidateNotFound(subject)
        # One decision on every way in (API, page): a pass also leaves the
        # candidate out of the assignment's lists; a like brings one passed on
        # back, so a match is never made on someone the lists hide.
        with transaction(self._engine) as conn:
            _put(conn, assignment_id, "organisation", subject, decision, now)
            if decision == "pass":
                self._assignments.pass_on(requester.organisation, assignment_id,
                                          subject, now, conn=conn)
            else:
                self._assignments.bring_back(assignment_id, subject, conn)

    def undo_by_organisation(self, requester: Requester, assignment_id: int,
                             subject: str) -> None:
        """Undo the decision, a pass's leaving out of the lists included."""
        require_staff(requester, "undo swipes")
        subject = checked_subject(subject)
        self._assignments.get(requester.organisation, assignment_id)
        with transaction(self._engine) as conn:
            removed = conn.execute(delete(T).where(
                *_key(assignment_id, "organisation", subject))).rowcount > 0
            if not removed:
                raise CandidateNotFound(subject)
            self._assignments.bring_back(assignment_id, subject, conn)

    def matches(self, requester: Requester, assignment_id: int,
                now: datetime) -> list[str]:
        """Pseudonyms matched on the organisation's own assignment, of the people it
        may still see for matching: a match does not outlive the consent it was made
        under (withdrawn or expired, the person is gone from the list)."""
        require_staff(requester, "view matches")
        self._assignments.get(requester.organisation, assignment_id)
        with transaction(self._engine) as conn:
            subjects = list(conn.execute(_matched().where(
                T.c.assignment_id == assignment_id).order_by(T.c.subject)).scalars())
        return [s for s in subjects if s in self.still_visible(requester, subjects, now)]

    def still_visible(self, requester: Requester, subjects: list[str],
                      now: datetime) -> set[str]:
        """Which of ``subjects`` the requester may see for matching now."""
        if not subjects:
            return set()
        return {p.pseudonym for p in self._gate.visible(requester, MATCHING, now,
                                                        pseudonyms=subjects)}

    def contact(self, requester: Requester, assignment_id: int, subject: str,
                now: datetime, trace_id: str) -> VisibleProfile:
        """The holder's contact details: a match that still stands (``is_match``),
        then a live contact grant."""
        require_staff(requester, "view contact details")
        subject = checked_subject(subject)
        self._assignments.get(requester.organisation, assignment_id)
        if not self.is_match(assignment_id, subject, now):
            raise NoMatch(assignment_id)
        profiles = self._gate.visible(requester, CONTACT, now, pseudonyms=[subject])
        if not profiles or not profiles[0].fields & CONTACT_FIELDS:
            raise ContactNotGranted(subject)
        self._gate.disclose(requester, CONTACT, profiles, now, trace_id,
                            CONTACT_ACTIVITY,
                            reason="contact after a match on assignment "
                            f"{assignment_id}")
        return profiles[0]

    # -- the holder's side ---------------------------------------------------------
    def by_holder(self, subject: str, assignment_id: int, decision: str,
                  now: datetime) -> StoredAssignment:
        _check_decision(decision)
        assignment = self._published(assignment_id)
        if assignment.status != "open":
            raise AssignmentNotOpen(assignment_id, assignment.status, decision)
        self._put(assignment_id, "holder", subject, decision, now)
        return assignment

    def undo_by_holder(self, subject: str, assignment_id: int) -> None:
        if not self._remove(assignment_id, "holder", subject):
            raise AssignmentNotOffered(assignment_id)

    def decisions_of_holder(self, subject: str) -> dict[int, str]:
        """The holder's own decisions by assignment, so a feed can leave out what
        they already liked or passed."""
        with transaction(self._engine) as conn:
            rows = conn.execute(select(T.c.assignment_id, T.c.decision).where(
                T.c.side == "holder", T.c.subject == subject)).all()
        return {r.assignment_id: r.decision for r in rows}

    def decisions_of_organisation(self, requester: Requester,
                                  assignment_id: int) -> dict[str, str]:
        """The organisation's decisions on one of its own assignments, by pseudonym."""
        require_staff(requester, "view swipes")
        self._assignments.get(requester.organisation, assignment_id)
        with transaction(self._engine) as conn:
            rows = conn.execute(select(T.c.subject, T.c.decision).where(
                T.c.side == "organisation", T.c.assignment_id == assignment_id)).all()
        return {r.subject: r.decision for r in rows}

    def matches_of_holder(self, subject: str,
                          now: datetime) -> list[StoredAssignment]:
        """The assignments the holder is matched on, as ``is_match`` decides: those
        whose organisation may no longer see the holder for matching are left
        out, as the organisation's own list leaves the holder out."""
        with transaction(self._engine) as conn:
            rows = conn.execute(select(T_ASSIGNMENT.c.id, T_ASSIGNMENT.c.organisation)
                                .where(T_ASSIGNMENT.c.id.in_(
                                    _matched(T.c.assignment_id).where(
                                        T.c.subject == subject)))
                                .order_by(T_ASSIGNMENT.c.id)).all()
        seen_by = {org: self._visible_to(org, [subject], now)
                   for org in {r.organisation for r in rows}}
        return [self._assignments.get(r.organisation, r.id) for r in rows
                if subject in seen_by[r.organisation]]

    # -- shared --------------------------------------------------------------------
    def is_match(self, assignment_id: int, subject: str, now: datetime) -> bool:
        """The one answer to "is this a match", for both sides and for contact
        details: both liked, and the assignment's organisation may still see the
        holder for matching. A match does not outlive the consent it was made
        under: withdrawn, expired or suspended, it has ended."""
        subject = checked_subject(subject)
        if not self.liked_both(assignment_id, subject):
            return False
        with transaction(self._engine) as conn:
            org = conn.execute(select(T_ASSIGNMENT.c.organisation).where(
                T_ASSIGNMENT.c.id == assignment_id)).scalar_one_or_none()
        return org is not None and subject in self._visible_to(org, [subject], now)

    def liked_both(self, assignment_id: int, subject: str) -> bool:
        """Both sides liked, whatever the consent says now (see ``is_match``)."""
        with transaction(self._engine) as conn:
            found = conn.execute(_matched().where(
                T.c.assignment_id == assignment_id, T.c.subject == subject)).first()
        return found is not None

    def _visible_to(self, organisation: str, subjects: list[str],
                    now: datetime) -> set[str]:
        # The gate decides on the requesting organisation alone.
        seeing = Requester(organisation, "", "staff")
        return self.still_visible(seeing, subjects, now)

    def open_assignment(self, assignment_id: int) -> StoredAssignment:
        with transaction(self._engine) as conn:
            org = conn.execute(select(T_ASSIGNMENT.c.organisation).where(
                T_ASSIGNMENT.c.id == assignment_id,
                T_ASSIGNMENT.c.status == "open")).scalar_one_or_none()
        if org is None:
            raise AssignmentNotOffered(assignment_id)
        return self._assignments.get(org, assignment_id)

    def _published(self, assignment_id: int) -> StoredAssignment:
        """An assignment holders may know of: any but a draft, which was never
        shown to anyone outside its organisation."""
        with transaction(self._engine) as conn:
            org = conn.execute(select(T_ASSIGNMENT.c.organisation).where(
                T_ASSIGNMENT.c.id == assignment_id,
                T_ASSIGNMENT.c.status != "draft")).scalar_one_or_none()
        if org is None:
            raise AssignmentNotOffered(assignment_id)
        return self._assignments.get(org, assignment_id)

    def _put(self, assignment_id: int, side: str, subject: str, decision: str,
             now: datetime) -> None:
        with transaction(self._engine) as conn:
            _put(conn, assignment_id, side, subject, decision, now)

    def _remove(self, assignment_id: int, side: str, subject: str) -> bool:
        with transaction(self._engine) as conn:
            return conn.execute(delete(T).where(
                *_key(assignment_id, side, subject))).rowcount > 0


def _put(conn, assignment_id: int, side: str, subject: str, decision: str,
         now: datetime) -> None:
    """Replace this side's decision (one row per side, subject, assignment)."""
    conn.execute(delete(T).where(*_key(assignment_id, side, subject)))
    conn.execute(insert(T).values(assignment_id=assignment_id, side=side,
                                  subject=subject, decision=decision, decided=now))


def _matched(column=T.c.subject):
    """``column`` of organisation likes that have a holder like on the same pair."""
    holder = T.alias("holder_like")
    return select(column).join(holder, and_(
        holder.c.assignment_id == T.c.assignment_id, holder.c.subject == T.c.subject,
        holder.c.side == "holder", holder.c.decision == "like")).where(
        T.c.side == "organisation", T.c.decision == "like")


def _key(assignment_id: int, side: str, subject: str) -> list:
    return [T.c.assignment_id == assignment_id, T.c.side == side,
            T.c.subject == subject]


def checked_subject(text: str) -> str:
    """A pseudonym as a route or a form names it: 32 hexadecimal digits, in either
    case (the same person); anything else is a 400, on every route alike."""
    if not isinstance(text, str) or not PSEUDONYM.fullmatch(text):
        raise InvalidWorkInput(["subject must be 32 hexadecimal digits"])
    return text.lower()


def _check_decision(decision: str) -> None:
    if decision not in DECISIONS:
        raise InvalidWorkInput(["decision must be one of " + ", ".join(DECISIONS)])


def require_staff(requester: Requester, action: str) -> None:
    if requester.role != "staff":
        raise Forbidden(action)
