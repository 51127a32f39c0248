"""ESCO v1.2.0 skills, skill groups and occupations with Dutch and English labels.

Labels can be missing in the source: 22 skills have no English and one has no Dutch
preferred label. They are None here rather than "", so that nobody shows an empty
string as if it were a label.
"""

from __future__ import annotations

import heapq
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from schemas.errors import UnsupportedLanguage

Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = ("nl", "en")

SKILL_GROUP_COLUMNS = ("uri", "code", "label_nl", "label_en")
SKILL_COLUMNS = (
    "uri",
    "preferred_label_en",
    "preferred_label_nl",
    "group_uri",
    "broader_uris",
)
SKILL_OPTIONAL = frozenset({"preferred_label_en", "preferred_label_nl", "broader_uris"})
DUTCH_LABEL_COLUMNS = ("uri", "preferred_label_nl")
OCCUPATION_COLUMNS = (
    "uri",
    "code",
    "isco_group",
    "preferred_label_nl",
    "preferred_label_en",
    "public_admin",
)


@dataclass(frozen=True, slots=True)
class SkillGroup:
    """A node of the ESCO skills hierarchy that groups skills."""

    uri: str
    code: str
    label_nl: str
    label_en: str


@dataclass(frozen=True, slots=True)
class Skill:
    """An ESCO skill; `broader` lists its direct broader skills or skill groups and
    `group_uri` the nearest skill group above it."""

    uri: str
    label_nl: str | None
    label_en: str | None
    broader: tuple[str, ...]
    group_uri: str


@dataclass(frozen=True, slots=True)
class Occupation:
    """An ESCO occupation with its 4-digit ISCO-08 unit group."""

    uri: str
    code: str
    label_nl: str
    label_en: str
    isco_group: str


def skill_group_from_row(row: Mapping[str, str]) -> SkillGroup:
    return SkillGroup(row["uri"], row["code"], row["label_nl"], row["label_en"])


def skill_from_row(row: Mapping[str, str], groups: Container[str]) -> Skill:
    """Build a skill from a `skills.csv` row. Its Dutch label there is an old
    (v1.0.8) one for 418 skills only; `with_dutch_labels` replaces it."""
    group_uri = row["group_uri"]
    if group_uri not in groups:
        raise ValueError(f"group_uri must be a known skill group, got {group_uri!r}")
    return Skill(
        uri=row["uri"],
        label_nl=row["preferred_label_nl"] or None,
        label_en=row["preferred_label_en"] or None,
        broader=tuple(row["broader_uris"].split()),
        group_uri=group_uri,
    )


def dutch_label_from_row(
    row: Mapping[str, str], skills: Container[str]
) -> tuple[str, str]:
    """Read one `skills_nl.csv` row as (skill URI, Dutch preferred label)."""
    if row["uri"] not in skills:
        raise ValueError(f"uri must be a skill of skills.csv, got {row['uri']!r}")
    return row["uri"], row["preferred_label_nl"]


def with_dutch_labels(
    skills: Mapping[str, Skill], labels: Iterable[tuple[str, str]]
) -> dict[str, Skill]:
    """Give skills their current Dutch label; the rest keep the one they have."""
    updated = dict(skills)
    for uri, label in labels:
        updated[uri] = replace(updated[uri], label_nl=label)
    return updated


def occupation_from_row(row: Mapping[str, str]) -> tuple[Occupation, bool]:
    """Read an `occupations.csv` row as (occupation, is it public administration)."""
    flag = row["public_admin"]
    if flag not in ("0", "1"):
        raise ValueError(f"public_admin must be 0 or 1, got {flag!r}")
    occupation = Occupation(
        uri=row["uri"],
        code=row["code"],
        label_nl=row["preferred_label_nl"],
        label_en=row["preferred_label_en"],
        isco_group=row["isco_group"],
    )
    return occupation, flag == "1"


@dataclass(frozen=True, slots=True)
class SkillSearch:
    """Substring search over skill labels, with the labels case-folded once."""

    entries: tuple[tuple[Skill, str, str], ...]

    @classmethod
    def of(cls, skills: Iterable[Skill]) -> SkillSearch:
        return cls(tuple((s, _fold(s.label_nl), _fold(s.label_en)) for s in skills))

    def search(self, text: str, lang: str, limit: int) -> tuple[Skill, ...]:
        """Rank: a prefix of the `lang` label, a prefix of the other label, a
        substring of the `lang` label, a substring of the other; then shorter
        (closer) labels first, then alphabetically."""
        if lang not in LANGUAGES:
            raise UnsupportedLanguage(lang, LANGUAGES)
        needle = _fold(text.strip())
        if not needle or limit <= 0:
            return ()
        ranked = []
        for skill, nl, en in self.entries:
            first, other = (nl, en) if lang == "nl" else (en, nl)
            rank = _rank(needle, first, other)
            if rank is not None:
                label = first or other
                ranked.append((rank, len(label), label, skill.uri, skill))
        return tuple(hit[-1] for hit in heapq.nsmallest(limit, ranked))


def _rank(needle: str, first: str, other: str) -> int | None:
    # Checked in rank order so that the cheap prefix tests usually decide.
    if first.startswith(needle):
        return 0
    if other.startswith(needle):
        return 1
    if needle in first:
        return 2
    if needle in other:
        return 3
    return None


def _fold(label: str | None) -> str:
    return (label or "").casefold()
