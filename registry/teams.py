"""Teams: matched people working on an assignment, under a unique, readable name.

The team page shows each member only with the fields that member consented to for
purpose ``teamwork`` to the viewer, read through the gate and logged before it is
shown; a member who withdrew shows as a pseudonym and nothing else. Dissolving a team
ends the connection (the page lists no members any more), keeps the products, and
keeps the team findable by name for a follow-up.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, or_, select, update

from consent import format_time
from schemas.texts import (
    NO_HIDDEN,
    ONE_LINE,
    has_hidden_character,
    has_visible_character,
    is_one_line,
)

from . import limits
from .assignments import Assignments
from .db import take_turn, transaction
from .errors_work import InvalidWorkInput, NameTaken, NoMatch, NotATeamMember
from .errors_work import CandidateNotFound, TeamDissolved, TeamNotFound
from .gate import ConsentGate, Requester
from .swipes import Swipes, checked_subject, require_staff
from .tables import Assignment
from .tables_work import Team, TeamMember, TeamProduct

T = Team.__table__
M = TeamMember.__table__
P = TeamProduct.__table__
A = Assignment.__table__
TEAMWORK = "teamwork"
TEAM_ACTIVITY = "https://w3id.org/virtuele-gemeente/register#teamwork-v1"
MAX_MEMBERS = 50
MAX_FILE_BYTES = 128 * 1024  # the API refuses bodies over 256 KiB
NAME = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*\Z")
MAX_FILE_NAME = 200
# The media type goes out again in a download's headers as it is: ASCII, no line
# break (\Z, not $). The file name goes out encoded (vg.api.teams.file_response).
MEDIA_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+\Z", re.ASCII)
# Readable suffixes: Dutch birds, so a name is easy to say in a meeting.
WORDS = ("ijsvogel", "merel", "reiger", "zwaluw", "buizerd", "kievit", "grutto",
         "specht", "vink", "wielewaal", "lepelaar", "tureluur", "roerdomp", "kwartel")


@dataclass(frozen=True, slots=True)
class TeamRow:
    id: int
    name: str
    assignment_id: int
    organisation: str
    status: str


@dataclass(frozen=True, slots=True)
class ProductSpec:
    title: str
    url: str | None = None
    file_name: str | None = None
    media_type: str | None = None
    content_base64: str | None = None


class Teams:
    def __init__(self, engine: Engine, gate: ConsentGate, swipes: Swipes,
                 assignments: Assignments):
        self._engine = engine
        self._gate = gate
        self._swipes = swipes
        self._assignments = assignments

    def form(self, requester: Requester, assignment_id: int, members: list[str],
             now: datetime, name: str | None = None) -> TeamRow:
        """A team from matches only: nobody is put in a team they did not like."""
        require_staff(requester, "form teams")
        assignment = self._assignments.get(requester.organisation, assignment_id)
        if not 1 <= len(members) <= MAX_MEMBERS:
            raise InvalidWorkInput([f"members must name 1 to {MAX_MEMBERS} people"])
        members = sorted({checked_subject(m) for m in members})
        if not 1 <= len(members) <= MAX_MEMBERS:
            raise InvalidWorkInput([f"members must name 1 to {MAX_MEMBERS} people"])
        if name is not None and (not NAME.match(name) or not 3 <= len(name) <= 80):
            raise InvalidWorkInput(["name must be 3 to 80 lowercase letters, digits "
                                    "and single hyphens"])
        for subject in members:
            if not self._swipes.liked_both(assignment_id, subject):
                raise NoMatch(assignment_id)
        visible = self._swipes.still_visible(requester, members, now)
        for subject in members:
            if subject not in visible:  # consent withdrawn or expired since the match
                raise CandidateNotFound(subject)
        with transaction(self._engine) as conn:
            take_turn(conn, T, "team-name")
            chosen = name or _free_name(conn, requester.organisation,
                                        _slug(assignment.spec.title))
            if conn.execute(select(T.c.id).where(
                    T.c.organisation == requester.organisation,
                    T.c.name == chosen)).first():
                raise NameTaken(chosen)
            team_id = conn.execute(insert(T).values(
                name=chosen, assignment_id=assignment_id,
                organisation=requester.organisation, status="active",
                created=now)).inserted_primary_key[0]
            conn.execute(insert(M), [{"team_id": team_id, "subject": s, "active": True}
                                     for s in members])
        return TeamRow(team_id, chosen, assignment_id, requester.organisation, "active")

    def get(self, organisation: str, name: str) -> TeamRow:
        """A name is unique within its organisation only."""
        with transaction(self._engine) as conn:
            row = conn.execute(select(T).where(
                T.c.organisation == organisation, T.c.name == name)).first()
        if row is None:
            raise TeamNotFound(name)
        return _row(row)

    def for_staff(self, requester: Requester, name: str) -> TeamRow:
        """Staff see the teams of their own organisation; others do not exist."""
        require_staff(requester, "view teams")
        return self.get(requester.organisation, name)

    def for_member(self, subject: str, name: str,
                   organisation: str | None = None) -> TeamRow:
        """Present and former members see their team; a stranger gets a 404. Two
        organisations may use one name: a member of both teams names the
        organisation (``organisation``), and learns only of teams they are in."""
        query = select(T).join(M, M.c.team_id == T.c.id).where(
            M.c.subject == subject, T.c.name == name)
        if organisation is not None:
            query = query.where(T.c.organisation == organisation)
        with transaction(self._engine) as conn:
            rows = conn.execute(query.order_by(T.c.id).limit(2)).all()
        if not rows:
            raise TeamNotFound(name)
        if len(rows) > 1:
            raise InvalidWorkInput([f"organisation must be given: more than one of "
                                    f"your teams is called {name}"])
        return _row(rows[0])

    def membership(self, team_id: int, subject: str) -> bool | None:
        """True for an active member, False for a former one, None for a stranger."""
        with transaction(self._engine) as conn:
            return conn.execute(select(M.c.active).where(
                M.c.team_id == team_id, M.c.subject == subject)).scalar_one_or_none()

    def require_active_member(self, team: TeamRow, subject: str) -> None:
        if team.status != "active":
            raise TeamDissolved(team.name)
        if not self.membership(team.id, subject):
            raise NotATeamMember(team.name)

    def members(self, team_id: int, active_only: bool = True) -> list[str]:
        query = select(M.c.subject).where(M.c.team_id == team_id)
        if active_only:
            query = query.where(M.c.active.is_(True))
        with transaction(self._engine) as conn:
            return list(conn.execute(query.order_by(M.c.subject)).scalars())

    def page(self, viewer: Requester, team: TeamRow, now: datetime, trace_id: str,
             viewer_subject: str | None = None) -> dict[str, Any]:
        """The team page for ``viewer``; members' fields pass the gate and the log."""
        assignment = self._assignments.get(team.organisation, team.assignment_id)
        members = self.members(team.id) if team.status == "active" else []
        others = [s for s in members if s != viewer_subject]
        profiles = self._gate.visible(viewer, TEAMWORK, now, pseudonyms=others) \
            if others else []
        self._gate.disclose(viewer, TEAMWORK, profiles, now, trace_id, TEAM_ACTIVITY,
                            reason=f"member of team {team.name}")
        seen = {p.pseudonym: p for p in profiles}
        return {
            "name": team.name, "status": team.status, "organisation": team.organisation,
            "assignment": assignment.to_json(),
            "members": [_member(s, seen.get(s), s == viewer_subject) for s in members],
            "products": self.products(team.id),
        }

    def dissolve(self, requester: Requester, name: str, now: datetime) -> TeamRow:
        team = self.for_staff(requester, name)
        if team.status != "active":
            raise TeamDissolved(name)
        with transaction(self._engine) as conn:
            conn.execute(update(T).where(T.c.id == team.id).values(
                status="dissolved", dissolved=now))
            conn.execute(update(M).where(M.c.team_id == team.id).values(active=False))
        return self.get(team.organisation, name)

    def find(self, requester: Requester, text: str) -> list[TeamRow]:
        """The organisation's teams, dissolved ones too, by name or assignment title."""
        require_staff(requester, "find teams")
        escaped = re.sub(r"([\\%_])", r"\\\1", text.lower()[:100])
        pattern = f"%{escaped}%"
        query = select(T).join(A, A.c.id == T.c.assignment_id).where(
            T.c.organisation == requester.organisation,
            or_(func.lower(T.c.name).like(pattern, escape="\\"),
                func.lower(A.c.title).like(pattern, escape="\\")))
        with transaction(self._engine) as conn:
            rows = conn.execute(query.order_by(T.c.id)).all()
        return [_row(r) for r in rows]

    def teams_of(self, subject: str) -> list[TeamRow]:
        with transaction(self._engine) as conn:
            rows = conn.execute(select(T).join(M, M.c.team_id == T.c.id).where(
                M.c.subject == subject).order_by(T.c.id)).all()
        return [_row(r) for r in rows]

    def add_product(self, team: TeamRow, spec: ProductSpec, now: datetime) -> dict:
        """A product of an active team, whoever adds it (a member or the
        organisation): a dissolved team's work is done, so its products stay as
        they were. The status is read in the transaction that inserts, the team's
        row locked, so a dissolution that commits first is seen."""
        content = _check_product(spec)
        with transaction(self._engine) as conn:
            limits.check_room(conn, (P, P.c.team_id == team.id),
                              limits.MAX_TEAM_PRODUCTS, "products per team",
                              owner=str(team.id))
            status = conn.execute(select(T.c.status).where(T.c.id == team.id)
                                  .with_for_update()).scalar_one()
            if status != "active":
                raise TeamDissolved(team.name)
            product_id = conn.execute(insert(P).values(
                team_id=team.id, title=spec.title.strip(), url=spec.url,
                file_name=spec.file_name, media_type=spec.media_type,
                content=content, added=now)).inserted_primary_key[0]
        return next(p for p in self.products(team.id) if p["id"] == product_id)

    def products(self, team_id: int) -> list[dict[str, Any]]:
        columns = [P.c.id, P.c.title, P.c.url, P.c.file_name, P.c.media_type,
                   func.length(P.c.content).label("size"), P.c.added]
        with transaction(self._engine) as conn:
            rows = conn.execute(select(*columns).where(P.c.team_id == team_id)
                                .order_by(P.c.id)).all()
        return [_product(r) for r in rows]

    def product_file(self, team: TeamRow, product_id: int) -> tuple[str, str, bytes]:
        with transaction(self._engine) as conn:
            row = conn.execute(select(P).where(
                P.c.id == product_id, P.c.team_id == team.id,
                P.c.content.is_not(None))).first()
        if row is None:
            raise TeamNotFound(f"{team.name}/{product_id}")
        return row.file_name, row.media_type, row.content


def in_active_team_of(engine: Engine, organisation: str, subject: str) -> bool:
    """Whether ``subject`` is an active member of an active team of
    ``organisation``: the connection a purpose of teamwork rests on."""
    query = select(M.c.subject).join(T, T.c.id == M.c.team_id).where(
        T.c.organisation == organisation, T.c.status == "active",
        M.c.active.is_(True), M.c.subject == subject).limit(1)
    with transaction(engine) as conn:
        return conn.execute(query).first() is not None


def _row(row) -> TeamRow:
    return TeamRow(row.id, row.name, row.assignment_id, row.organisation, row.status)


def _member(subject: str, profile, is_viewer: bool) -> dict[str, Any]:
    if is_viewer:
        return {"subject": subject, "you": True, "fields": [], "workcontext": {}}
    if profile is None:
        return {"subject": subject, "fields": [], "workcontext": {}}
    document = {k: v for k, v in profile.workcontext.items() if k != "id"}
    return {"subject": subject, "fields": sorted(profile.fields),
            "workcontext": document}


def _product(row) -> dict[str, Any]:
    out: dict[str, Any] = {"id": row.id, "title": row.title,
                           "added": format_time(row.added)}
    if row.url:
        out["url"] = row.url
    else:
        out.update(fileName=row.file_name, mediaType=row.media_type, size=row.size)
    return out


def _check_product(spec: ProductSpec) -> bytes | None:
    """All problems at once; a link or a file, never both."""
    problems = []
    if not (1 <= len(spec.title.strip()) <= 200
            and has_visible_character(spec.title)):
        problems.append("title must be 1 to 200 characters, one of them visible")
    elif not is_one_line(spec.title):
        problems.append(f"title {ONE_LINE}")
    elif has_hidden_character(spec.title):
        problems.append(f"title {NO_HIDDEN}")
    has_file = spec.content_base64 is not None
    if (spec.url is None) == (not has_file):
        problems.append("give either url or a file (fileName, mediaType, content)")
    if spec.url is not None and not re.match(r"^https?://[^\s]{1,1990}\Z", spec.url):
        problems.append("url must be an http or https URL of at most 2000 characters")
    content = None
    if has_file:
        try:
            content = base64.b64decode(spec.content_base64, validate=True)
        except (binascii.Error, ValueError):
            problems.append("content must be base64")
        if content is not None and not 1 <= len(content) <= MAX_FILE_BYTES:
            problems.append(f"a file must be 1 to {MAX_FILE_BYTES} bytes")
        if not is_file_name(spec.file_name):
            problems.append(f"fileName must be 1 to {MAX_FILE_NAME} characters, "
                            "without control or direction characters, / or \\")
        if not spec.media_type or not MEDIA_TYPE.match(spec.media_type):
            problems.append("mediaType must be a media type such as application/pdf")
    if problems:
        raise InvalidWorkInput(problems)
    return content


def is_file_name(name: object) -> bool:
    """A file name as the holder's own system gave it, in any script (brackets,
    accents and all), kept as given. Refused: control and format characters
    (among them the bidirectional controls that disguise an extension, Trojan
    Source, and zero-width ones), separators of lines and paragraphs, unassigned
    and private-use code points, the path separators ``/`` and ``\\``, and a name
    that is blank or only ``.`` or ``..``."""
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_FILE_NAME:
        return False
    if not name.strip() or name in (".", "..") or "/" in name or "\\" in name:
        return False
    return not any(unicodedata.category(c)[0] == "C" or unicodedata.category(c)
                   in ("Zl", "Zp") for c in name)


def _slug(title: str) -> str:
    folded = unicodedata.normalize("NFKD", title)
    ascii_title = folded.encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_title.lower())
    return "-".join(words)[:40].strip("-") or "team"


def _free_name(conn, organisation: str, base: str) -> str:
    """``<title>-<bird>``, with a number added only when every bird of the
    organisation's teams is taken."""
    taken = set(conn.execute(select(T.c.name).where(
        T.c.organisation == organisation, T.c.name.like(f"{base}-%"))).scalars())
    words = list(WORDS)
    secrets.SystemRandom().shuffle(words)
    for number in range(1, 1000):
        for word in words:
            name = f"{base}-{word}" if number == 1 else f"{base}-{word}-{number}"
            if name not in taken:
                return name
    raise NameTaken(base)
