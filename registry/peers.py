"""Holders looking for colleagues: interest groups and peer search.

A holder acting as a requester is treated like an organisation: authenticated (their
session), answered only through the gate for purpose ``knowledge_sharing`` with the
holder's employer as the requesting organisation, and every person shown is logged
first with the holder's pseudonym as the actor (BIO 8.15.01: actor, object, result).

A holder without an attested employer (a freelancer) is requester ``freelance``, a
member of no organisation, which no grant's audience contains: they are shown
nobody. Their searches stop before the gate, as no key of an organisation is
theirs to order or name colleagues by (org_pseudonyms.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select

from schemas import holds_forbidden_characters
from schemas.texts import (
    NO_HIDDEN,
    ONE_LINE,
    has_hidden_character,
    has_visible_character,
    is_one_line,
)

from . import limits
from .db import take_turn, transaction
from .errors_work import GroupNotFound, InvalidWorkInput, NameTaken, NotAGroupMember
from .gate import ConsentGate, Requester, VisibleProfile
from .org_pseudonyms import FREELANCE, OrgPseudonyms
from .tables_work import GroupMember, InterestGroup

G = InterestGroup.__table__
GM = GroupMember.__table__
KNOWLEDGE = "knowledge_sharing"
KNOWLEDGE_ACTIVITY = "https://w3id.org/virtuele-gemeente/register#knowledge-sharing-v1"
HOLDER_ROLE = "holder"
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*\Z")
MAX_SKILLS = 10
GROUP_PAGE = 1000  # the most groups one listing returns


def holder_requester(pseudonym: str, employer: str | None) -> Requester:
    return Requester(employer or FREELANCE, pseudonym, HOLDER_ROLE)


@dataclass(frozen=True, slots=True)
class GroupRow:
    slug: str
    name: str
    theme: str
    members: int


class Peers:
    def __init__(self, engine: Engine, gate: ConsentGate, reference,
                 names: OrgPseudonyms):
        self._engine = engine
        self._gate = gate
        self._reference = reference
        self._names = names

    def _tie_order(self, organisation: str, profiles: list[VisibleProfile]
                   ) -> dict[str, bytes]:
        """Each profile's tie key for ``organisation``: colleagues listed in the
        registry's pseudonym order would be in one order for every organisation
        (org_pseudonyms.py)."""
        raw = b"".join(bytes.fromhex(p.pseudonym) for p in profiles)
        keys = self._names.tie_keys(organisation, raw)
        return {p.pseudonym: keys[16 * i:16 * i + 16] for i, p in enumerate(profiles)}

    # -- interest groups -----------------------------------------------------------
    def create_group(self, slug: str, name: str, theme: str, founder: str,
                     now: datetime) -> GroupRow:
        problems = []
        if not SLUG.match(slug) or not 3 <= len(slug) <= 80:
            problems.append("slug must be 3 to 80 lowercase letters, digits, hyphens")
        if not (1 <= len(name.strip()) <= 120 and has_visible_character(name)):
            problems.append("name must be 1 to 120 characters, one of them visible")
        elif not is_one_line(name):
            problems.append(f"name {ONE_LINE}")
        elif has_hidden_character(name):
            problems.append(f"name {NO_HIDDEN}")
        if len(theme) > 500:
            problems.append("theme must be at most 500 characters")
        if problems:
            raise InvalidWorkInput(problems)
        with transaction(self._engine) as conn:
            take_turn(conn, G, f"group-slug|{slug}")
            if conn.execute(select(G.c.id).where(G.c.slug == slug)).first():
                raise NameTaken(slug)
            limits.check_room(conn, (G, G.c.founder == founder),
                              limits.MAX_GROUPS_FOUNDED, "groups founded by one holder",
                              owner=founder)
            group_id = conn.execute(insert(G).values(
                slug=slug, name=name.strip(), theme=theme, created=now,
                founder=founder)).inserted_primary_key[0]
            conn.execute(insert(GM).values(group_id=group_id, subject=founder,
                                           joined=now))
        return self.group(slug)

    def groups(self, limit: int = GROUP_PAGE, after: str | None = None
               ) -> list[GroupRow]:
        """Groups by slug after ``after``, with their member counts, in one query;
        one more than a page at most (a caller reads one more to know whether
        another page follows)."""
        query = _with_members().order_by(G.c.slug).limit(max(1, min(limit,
                                                                   GROUP_PAGE + 1)))
        if after is not None:
            query = query.where(G.c.slug > after)
        with transaction(self._engine) as conn:
            rows = conn.execute(query).all()
        return [GroupRow(r.slug, r.name, r.theme, r.members) for r in rows]

    def group(self, slug: str) -> GroupRow:
        with transaction(self._engine) as conn:
            row = conn.execute(_with_members().where(G.c.slug == slug)).first()
        if row is None:
            raise GroupNotFound(slug)
        return GroupRow(row.slug, row.name, row.theme, row.members)

    def join(self, slug: str, subject: str, now: datetime) -> None:
        group_id = self._id(slug)
        with transaction(self._engine) as conn:
            conn.execute(delete(GM).where(GM.c.group_id == group_id,
                                          GM.c.subject == subject))
            conn.execute(insert(GM).values(group_id=group_id, subject=subject,
                                           joined=now))

    def memberships(self, subject: str) -> set[str]:
        """The slugs of the groups ``subject`` belongs to."""
        with transaction(self._engine) as conn:
            return set(conn.execute(select(G.c.slug).join(GM, GM.c.group_id == G.c.id)
                                    .where(GM.c.subject == subject)).scalars())

    def leave(self, slug: str, subject: str) -> None:
        group_id = self._id(slug)
        with transaction(self._engine) as conn:
            gone = conn.execute(delete(GM).where(GM.c.group_id == group_id,
                                                 GM.c.subject == subject)).rowcount
        if not gone:
            raise NotAGroupMember(slug)

    def suggestions(self, requester: Requester, slug: str, now: datetime,
                    trace_id: str) -> list[VisibleProfile]:
        """Fellow members who consented to knowledge sharing with the requester's
        organisation; a member who did not is not even named."""
        group_id = self._id(slug)
        with transaction(self._engine) as conn:
            members = set(conn.execute(select(GM.c.subject).where(
                GM.c.group_id == group_id)).scalars())
        if requester.actor not in members:
            raise NotAGroupMember(slug)
        if not in_an_organisation(requester):
            return []
        others = sorted(members - {requester.actor})
        profiles = self._gate.visible(requester, KNOWLEDGE, now, pseudonyms=others) \
            if others else []
        tie = self._tie_order(requester.organisation, profiles)
        profiles.sort(key=lambda p: tie[p.pseudonym])
        self._gate.disclose(requester, KNOWLEDGE, profiles, now, trace_id,
                            KNOWLEDGE_ACTIVITY, reason=f"fellow member of group {slug}")
        return profiles

    # -- peer search ---------------------------------------------------------------
    def search(self, requester: Requester, skills: list[str], now: datetime,
               trace_id: str, limit: int = 20,
               ) -> list[tuple[VisibleProfile, list[str]]]:
        """Colleagues with any of ``skills`` among those who consented to knowledge
        sharing with the requester's organisation, most skills first."""
        if not 1 <= len(skills) <= MAX_SKILLS or any(len(s) > 200 for s in skills):
            raise InvalidWorkInput([f"name 1 to {MAX_SKILLS} skills of at most 200 "
                                    "characters"])
        problems = skill_problems(skills, self._reference)
        if problems:
            raise InvalidWorkInput(problems)
        if not in_an_organisation(requester):
            return []
        wanted = set(skills)
        profiles = [p for p in self._gate.visible(requester, KNOWLEDGE, now,
                                                  any_of_skills=sorted(wanted))
                    if p.pseudonym != requester.actor]
        tie = self._tie_order(requester.organisation, profiles)
        scored = sorted(((p, sorted(p.skills & wanted)) for p in profiles),
                        key=lambda pair: (-len(pair[1]), tie[pair[0].pseudonym]))
        page = scored[: max(1, min(limit, 100))]
        self._gate.disclose(requester, KNOWLEDGE, [p for p, _ in page], now, trace_id,
                            KNOWLEDGE_ACTIVITY, reason="peer search by skill")
        return page

    def _id(self, slug: str) -> int:
        with transaction(self._engine) as conn:
            group_id = conn.execute(select(G.c.id).where(G.c.slug == slug)) \
                .scalar_one_or_none()
        if group_id is None:
            raise GroupNotFound(slug)
        return group_id


def in_an_organisation(requester: Requester) -> bool:
    """Whether ``requester`` looks on behalf of an organisation, one that a grant's
    audience can contain; a freelancer does not."""
    return requester.organisation != FREELANCE


def skill_problems(skills: list[str], reference) -> list[str]:
    """What is wrong with the skills a search names (``vaardigheid``, in the API's
    query and on the web form alike), each named by its position: a typo or a
    label in place of a skill's URI would otherwise read as "no colleague has this
    skill". The value itself is not repeated: it may hold characters that
    disguise the text around it."""
    problems = []
    for number, skill in enumerate(skills, start=1):
        if not skill.strip():
            problems.append(f"vaardigheid {number} is empty")
        elif holds_forbidden_characters(skill):
            problems.append(f"vaardigheid {number} holds a control character or one "
                            "that reverses the writing direction")
        elif not reference.has_skill(skill):
            problems.append(f"vaardigheid {number} is not the URI of a known ESCO "
                            "skill")
    return problems


def _with_members():
    count = select(func.count()).where(GM.c.group_id == G.c.id).scalar_subquery()
    return select(G.c.slug, G.c.name, G.c.theme, count.label("members"))


def profile_json(profile: VisibleProfile) -> dict[str, Any]:
    """What a viewer gets: pseudonym, the consented fields, no did (it is a global
    identifier that no grant covers)."""
    document = {k: v for k, v in profile.workcontext.items() if k != "id"}
    return {"subject": profile.pseudonym, "fields": sorted(profile.fields),
            "workcontext": document}
