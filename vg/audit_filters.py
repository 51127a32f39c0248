"""The DPO's filters on the access log, one set of rules for the API, the web pages
and the command line: which characters a text may hold and how long it may be,
which organisations, purposes and outcomes exist, how a pseudonym and a requester
are written, and how a day or an instant is written. A filter that can not be
applied is refused with its reason, never dropped and never read as "no such
access": a mistyped purpose, organisation or pseudonym would otherwise look like a
clean log.

Codes that are case-insensitive are normalised to the form the log stores: an
organisation code to the reference data's spelling (``gm0344`` is ``GM0344``), a
pseudonym and a key's number to lower case hexadecimal and plain digits."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from audit import InvalidAuditQuery
from registry.peers import FREELANCE
from schemas import DAY_RANGE, PURPOSES, day_in_range, holds_forbidden_characters

# The most characters each text filter takes: an organisation code, an actor as
# the access record names it, a purpose key, a subject's pseudonym, a day or an
# instant.
MAX_LENGTH = {"organisation": 40, "requester": 200, "purpose": 40, "subject": 64,
              "outcome": 10, "since": 40, "until": 40}
OUTCOMES = ("disclosed", "refused")
# The organisations the system itself names in entries besides those of the
# reference data: a holder who works for no attested organisation.
OWN_ORGANISATIONS = (FREELANCE,)

PSEUDONYM = re.compile(r"[0-9a-fA-F]{32}")
_KEY = re.compile(r"apikey:([0-9]{1,18})", re.IGNORECASE)
_SYSTEM = re.compile(r"(system|demo):[a-z0-9][a-z0-9-]{0,60}", re.IGNORECASE)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}"
                      r"(:[0-9]{2}(\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})")

MUST = {
    "characters": "free of control characters and characters that reverse the "
                  "writing direction",
    "pseudonym": "a pseudonym of 32 hexadecimal digits, in full as the log shows it",
    "name": "a pseudonym of 52 characters a-z and 2-7, in full as the log shows it",
    "requester": "a requester as the log names it: apikey:<number>, a holder's "
                 "pseudonym of 32 hexadecimal digits or system:<name>",
    # a DPO of one organisation: holders as that organisation knows them
    "requester_name": "a requester as the log names it: apikey:<number>, a holder "
                      "as your organisation knows them (52 characters a-z and 2-7) "
                      "or system:<name>",
    "organisation": "the code of an organisation of the reference data (e.g. "
                    "GM0344) or " + ", ".join(OWN_ORGANISATIONS),
    "day": "a date written YYYY-MM-DD (e.g. 2026-12-05)",
    "instant": "a date written YYYY-MM-DD or a date-time with its offset (e.g. "
               "2026-12-05 or 2026-12-05T00:00:00Z)",
    "range": "a day or a moment " + DAY_RANGE,
}


class FilterRefused(InvalidAuditQuery):
    """A filter the rules refuse; ``rule`` names which rule (``characters``,
    ``length``, ``choice``, ``pseudonym``, ``name`` (a holder as an organisation
    knows them), ``requester``, ``requester_name`` (a requester where holders
    are named so), ``organisation``, ``day``,
    ``instant``, ``range`` or ``period``), for a page that words the reason itself."""

    def __init__(self, parameter: str, must: str, rule: str):
        super().__init__(parameter, must)
        self.rule = rule


def known_purposes() -> tuple[str, ...]:
    return tuple(PURPOSES)


def text(name: str, value: object, *, form: bool = False) -> str | None:
    """A text filter as given, or None when it is absent; characters and length
    are checked first, for every filter. An empty one is refused (it names
    nothing), except on a ``form``: its fields are sent empty when they are not
    filled in, and are trimmed."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FilterRefused(name, "a text", "length")
    if holds_forbidden_characters(value):
        raise FilterRefused(name, MUST["characters"], "characters")
    if form:
        value = value.strip()
    if len(value) > MAX_LENGTH[name]:
        raise FilterRefused(name, f"at most {MAX_LENGTH[name]} characters", "length")
    if not value and not form:
        raise FilterRefused(name, "a non-empty text", "length")
    return value or None


def check_purpose(purpose: str | None) -> None:
    """Entries carry a purpose of the catalogue only, so any other names none."""
    if purpose is not None and purpose not in PURPOSES:
        raise FilterRefused("purpose", "one of " + ", ".join(PURPOSES), "choice")


def check_outcome(outcome: str | None) -> None:
    if outcome is not None and outcome not in OUTCOMES:
        raise FilterRefused("outcome", "one of " + ", ".join(OUTCOMES), "choice")


# How a DPO of one organisation names holders: a name of that organisation
# (vg/org_names.py), turned into the pseudonym the log stores, or refused.
Names = Callable[[str, str], str]  # (value, parameter) -> pseudonym


def pseudonym(value: str | None, name: str = "subject",
              names: Names | None = None) -> str | None:
    """A subject's pseudonym in full, in the lower case the log stores; with
    ``names``, the organisation's own name for them instead."""
    if value is None:
        return None
    if names is not None:
        return names(value, name)
    if not PSEUDONYM.fullmatch(value):
        raise FilterRefused(name, MUST["pseudonym"], "pseudonym")
    return value.lower()


def requester(value: str | None, names: Names | None = None) -> str | None:
    """An actor as access records name it: a key (``apikey:12``), a holder's
    pseudonym (with ``names``, the organisation's name for them), or the system's
    own (``system:retention``)."""
    if value is None:
        return None
    if names is not None and not (_KEY.fullmatch(value) or _SYSTEM.fullmatch(value)):
        try:
            return names(value, "requester")
        except FilterRefused as exc:
            if exc.rule != "name":
                raise
            raise FilterRefused("requester", MUST["requester_name"],
                                "requester_name") from None
    if PSEUDONYM.fullmatch(value):
        return value.lower()
    if found := _KEY.fullmatch(value):
        return f"apikey:{int(found.group(1))}"
    if _SYSTEM.fullmatch(value):
        return value.lower()
    raise FilterRefused("requester", MUST["requester"], "requester")


def organisation(value: str | None, known: Mapping[str, Any] | Iterable[str]
                 ) -> str | None:
    """An organisation code of the reference data (``known``) or one the system
    names itself, in the spelling the log stores; the codes are case-insensitive."""
    if value is None:
        return None
    codes = known if isinstance(known, Mapping) else frozenset(known)
    if value in codes or value in OWN_ORGANISATIONS:
        return value
    folded = value.casefold()
    for code in (*codes, *OWN_ORGANISATIONS):
        if code.casefold() == folded:
            return code
    raise FilterRefused("organisation", MUST["organisation"], "organisation")


def instant(name: str, value: str | None, *, days_only: bool = False
            ) -> datetime | None:
    """A bound of the period: a day (``since`` from its start, ``until`` through
    its end, in UTC) or, unless ``days_only``, a date-time with its offset; its
    day lies from FIRST_DAY to LAST_DAY, or it is refused."""
    if value is None:
        return None
    if _DAY.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise FilterRefused(name, MUST["day" if days_only else "instant"],
                                "day" if days_only else "instant") from None
        _check_range(name, day)
        start = datetime.combine(day, time.min, tzinfo=timezone.utc)
        return start if name == "since" else start + timedelta(days=1)
    if days_only:
        raise FilterRefused(name, MUST["day"], "day")
    try:
        if not _INSTANT.fullmatch(value):
            raise ValueError(value)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FilterRefused(name, MUST["instant"], "instant") from None
    _check_range(name, moment)
    return moment


def _check_range(name: str, day: date) -> None:
    if not day_in_range(day):
        raise FilterRefused(name, MUST["range"], "range")


def period(since: datetime | None, until: datetime | None) -> None:
    """An empty or reversed period is a mistake, refused as the flags refuse it,
    not an empty answer."""
    if since is not None and until is not None and until <= since:
        raise FilterRefused("until", "after since", "period")


def read(values: Mapping[str, object], organisations: Mapping[str, Any],
         *, form: bool = False, names: Names | None = None) -> dict[str, Any]:
    """Every filter given in ``values`` (keyed as the API names them; None means
    no filter) by the rules above: the filters to apply, keyed as
    ``audit.entries`` takes them. The first filter that can not be applied is
    refused (``FilterRefused``); nothing is dropped. A ``form`` (the web page)
    sends its empty fields and takes days only, as its date fields write them.
    ``names`` reads the holders' names of a DPO of one organisation."""
    days_only = form
    given = {name: text(name, values.get(name), form=form)
             for name in MAX_LENGTH if name in values}
    check_purpose(given.get("purpose"))
    check_outcome(given.get("outcome"))
    out: dict[str, Any] = {
        "purpose": given.get("purpose"), "outcome": given.get("outcome"),
        "subject": pseudonym(given.get("subject"), names=names),
        "requester": requester(given.get("requester"), names),
        "organisation": organisation(given.get("organisation"), organisations),
        "since": instant("since", given.get("since"), days_only=days_only),
        "until": instant("until", given.get("until"), days_only=days_only)}
    period(out["since"], out["until"])
    return {name: value for name, value in out.items() if name in values}
