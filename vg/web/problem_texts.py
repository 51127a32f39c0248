"""The detail of a refusal in the page's language.

A domain error's own words (which field, which range) are written in English by the
layer that raised it, for the API's problem details. A page shows them in its own
language: each form of sentence those layers write is matched here and said again
from the catalogue (``detail.<form>``), with the field named by its label on the
page where it has one. A detail with a part of no known form is not shown on a
page in another language than English: the sentence for the error's code (always
in the catalogue) says what went wrong, and no English reaches a Dutch page.
"""

from __future__ import annotations

import re
from typing import Callable

# The forms of sentence the domain layers write, each with its catalogue key; the
# named groups fill the sentence's placeholders.
_WORD = r"(?P<field>[A-Za-z_][A-Za-z0-9_.]*)"
FORMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern + r"\Z"), key) for pattern, key in (
        (_WORD + r" must be from (?P<low>\S+) to (?P<high>\S+)", "detail.range"),
        (_WORD + r" must be a (day|moment) from (?P<low>\S+) to (?P<high>\S+)",
         "detail.date_range"),
        (_WORD + r" must be (?P<low>\d+) to (?P<high>\d+) characters", "detail.length"),
        (_WORD + r" must be (?P<low>\d+) to (?P<high>\d+) characters, one of them "
         r"visible", "detail.length_visible"),
        (_WORD + r" must be at most (?P<high>\d+) characters", "detail.max_length"),
        (_WORD + r" must be one line \(no tab, line feed, carriage return or line "
         r"separator\)", "detail.one_line"),
        (_WORD + r" must hold no hidden characters \(zero-width, tag, private-use "
         r"or unassigned\)", "detail.hidden"),
        (_WORD + r" must name each value once", "detail.once"),
        (_WORD + r" must be one of (?P<choices>.+)", "detail.choice"),
        (_WORD + r" must not exceed (?P<other>[A-Za-z_]+)", "detail.not_above"),
        (_WORD + r" must not be after (?P<other>[A-Za-z_]+)", "detail.not_after"),
        (_WORD + r" must be after (?P<other>[A-Za-z_]+)", "detail.after"),
        (_WORD + r" and (?P<other>[A-Za-z_]+) must be given together",
         "detail.together"),
        (_WORD + r" must name (?P<low>\d+) to (?P<high>\d+) ESCO skills",
         "detail.skill_count"),
        (_WORD + r" must name at most (?P<high>\d+) ESCO skills", "detail.skill_most"),
        (_WORD + r" must be a known ESCO skill URI, got (?P<value>.+)",
         "detail.skill_uri"),
        (_WORD + r" must be the CBS code of a municipality", "detail.municipality"),
        (_WORD + r" must be given exactly when (?P<other>[A-Za-z_]+) is "
         r"(?P<value>\S+)", "detail.exactly_when"),
        (r"a (?P<circle>\S+) circle needs a location", "detail.circle_location"),
        (r"an optional skill's weight must be 1, 2 or 3 and name one of "
         r"optionalSkills", "detail.skill_weight"),
        (r"(?P<uri>\S+) is not a known ESCO skill", "detail.unknown_skill"),
        (r"named more than once in requiredSkills and optionalSkills: (?P<uris>.+)",
         "detail.skill_twice"),
        (r"(?P<uri>\S+) is not a known ESCO occupation", "detail.unknown_occupation"),
        # the Workcontext's shapes (schemas/shapes/workcontext.ttl) and checks
        (_WORD + r" must be an integer from (?P<low>-?\d+) to (?P<high>-?\d+)",
         "detail.int_range"),
        (_WORD + r" must be one e-mail address \(at most (?P<high>\d+) characters\)",
         "detail.email"),
        (_WORD + r" must be one telephone number", "detail.telephone"),
        (_WORD + r" must be (one TOOI organisation identifier|the TOOI identifier "
         r"of a known organisation)", "detail.organisation"),
        (_WORD + r" must be one ESCO occupation URI", "detail.occupation"),
        (_WORD + r" must be ESCO skill URIs \(at most (?P<high>\d+)\)",
         "detail.skill_most"),
        (_WORD + r" must be one HR21 function family", "detail.function_family"),
        (_WORD + r" must be one (function level|availability|video|rating summary|"
         r"period)", "detail.one_object"),
        (_WORD + r' must be a decimal text from "(?P<low>[^"]+)" to "(?P<high>[^"]+)"'
         r" with at most one decimal.*", "detail.decimal_range"),
        (_WORD + r" must be HR21, FGR or overig", "detail.level_system"),
        (_WORD + r" must be one text of at most (?P<high>\d+) characters",
         "detail.max_length"),
        (_WORD + r" is required \(at most (?P<high>\d+) characters\)",
         "detail.required_most"),
        (_WORD + r" is required: one text of (?P<low>\d+) to (?P<high>\d+) characters",
         "detail.required_length"),
        (_WORD + r" must be (one|a) date \(YYYY-MM-DD\) from (?P<low>\S+) to "
         r"(?P<high>\S+)", "detail.date_between"),
        (_WORD + r" is required: one http or https address", "detail.required_iri"),
        (_WORD + r" must be video/mp4 or video/webm", "detail.video_format"),
        (_WORD + r" must be the holder's did:key( \(did:key:z6Mk\.\.\.\))?",
         "detail.own_did"),
        (_WORD + r" must not end before it starts", "detail.period_order"),
        (r"a grant can be valid for at most two years", "detail.grant_two_years"),
        (r"another request of this pod is changing its consent; try again in "
         r"(?P<seconds>\d+) seconds", "detail.pod_busy"),
        # a team's product (registry/teams.py)
        (_WORD + r" must be (?P<low>\d+) to (?P<high>\d+) characters, without "
         r"control or direction characters, / or \\", "detail.file_name"),
        (r"give either url or a file \(fileName, mediaType, content\)",
         "detail.link_or_file"),
        (r"url must be an http or https URL of at most (?P<high>\d+) characters",
         "detail.product_url"),
        (r"content must be base64", "detail.base64"),
        (r"a file must be 1 to (?P<high>\d+) bytes", "detail.file_size"),
        (r"mediaType must be a media type such as application/pdf",
         "detail.media_type"),
        # a search for colleagues (registry/peers.py)
        (r"vaardigheid (?P<number>\d+) is empty", "detail.search_skill_empty"),
        (r"vaardigheid (?P<number>\d+) holds a control character or one that "
         r"reverses the writing direction", "detail.search_skill_characters"),
        (r"vaardigheid (?P<number>\d+) is not the URI of a known ESCO skill",
         "detail.search_skill_unknown"),
        # the access log's verification (audit/verify.py)
        (r"entry (?P<index>\d+) is missing \(deleted\)", "detail.entry_deleted"),
        (r"entry (?P<index>\d+) appears twice \(inserted\)", "detail.entry_twice"),
        (r"entry (?P<index>\d+) does not match its leaf hash \(changed, inserted or "
         r"moved\)", "detail.entry_changed"),
        (r"the head's root hash does not match the entries", "detail.root_differs"),
    ))

# A field as the domain layers name it -> the catalogue key of its label on a page.
LABELS = {
    "title": "assignment.title", "description": "assignment.description",
    "level_min": "assignment.level_from", "levelMin": "assignment.level_from",
    "level_max": "assignment.level_to", "levelMax": "assignment.level_to",
    "hoursPerWeek": "assignment.hours", "hours_per_week": "assignment.hours",
    "periodStart": "workcontext.from", "periodEnd": "workcontext.until",
    "validUntil": "consent.until", "validFrom": "consent.start", "requiredSkills": "assignment.required",
    "optionalSkills": "assignment.optional", "location": "assignment.location",
    "circle": "assignment.circle", "fileName": "team.file_name",
    # the Workcontext form's fields, as the shapes name them
    "email": "workcontext.email", "telephone": "workcontext.telephone",
    "worksFor": "workcontext.employer", "fieldOfWork": "workcontext.field",
    "skills": "workcontext.skills", "functionLevel": "workcontext.level",
    "functionLevel.levelName": "workcontext.level_name",
    "functionLevel.levelRank": "workcontext.rank",
    "functionLevel.salaryScale": "workcontext.scale",
    "availability": "workcontext.availability",
    "availability.hoursPerWeek": "workcontext.hours",
    "availability.period": "workcontext.availability",
    "availability.period.startDate": "workcontext.from",
    "availability.period.endDate": "workcontext.until",
    # the alert settings on the feed page (pod/alerts.py)
    "frequency": "feed.frequency", "minScore": "feed.min_score",
}


def localised(text: str, lang: str, t: Callable[..., str]) -> str | None:
    """``text`` (problems joined by "; ") in ``lang``, each field named by its label
    on the page, never by the API's member name; None when a part of it has no
    known form and ``lang`` is not English (in English such a part is shown as
    written, with the member names it holds said as labels)."""
    if not text:
        return None
    parts = [_part(part, t) for part in text.split("; ")]
    if lang == "en":
        parts = [shown or _labelled(part, t) for shown, part in
                 zip(parts, text.split("; "))]
    return None if None in parts else "; ".join(parts)


def _part(text: str, t: Callable[..., str]) -> str | None:
    for pattern, key in FORMS:
        found = pattern.match(text)
        if found:
            values = found.groupdict()
            for name in ("field", "other"):
                if name in values:
                    values[name] = _label(values[name], t)
            return t(key, **values)
    return None


_MEMBER = re.compile(r"\b[a-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*\b")


def _labelled(text: str, t: Callable[..., str]) -> str:
    """A sentence of no known form, its member names (those with a label, and any
    in camelCase) said in words."""
    def say(found: re.Match[str]) -> str:
        name = found.group(0)
        if name in LABELS or _CAMEL.search(name):
            return _label(name, t).lower() if found.start() else _label(name, t)
        return name
    return _MEMBER.sub(say, text)


_CAMEL = re.compile(r"[a-z][A-Z]")


def _label(name: str, t: Callable[..., str]) -> str:
    """The label a page shows for ``name``; one without a label is said in words
    (``levelRank`` as "level rank"), never as the API's member name."""
    if name in LABELS:
        return t(LABELS[name])
    if not _CAMEL.search(name) and "_" not in name and "." not in name:
        return name  # a word already
    last = name.rsplit(".", 1)[-1]
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", last).replace("_", " ").lower()
    return words[:1].upper() + words[1:]
