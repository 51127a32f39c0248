"""How near one ESCO skill is to another, through the ESCO skills hierarchy.

A project leader asking for a skill is best served by someone who has exactly that
skill, and still helped by someone with the skill one step up or down the hierarchy
(``broader``/``narrower``) or beside it (a *sibling*: the same direct broader
concept). Those count for less, in that order. The weights are part of the score a
project leader reads, so they are few and round.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Mapping

EXACT, NEAR, SIBLING = 1.0, 0.5, 0.25
MAX_SIBLINGS = 60
"""A broader concept with more children than this (ESCO has groups of up to 270) is
a catalogue heading rather than a specialism: its children are not counted as
siblings of each other."""


@dataclass(frozen=True, slots=True)
class Relation:
    kind: str  # "exact" | "broader" | "narrower" | "sibling"
    weight: float


class SkillRelations:
    def __init__(self, broader: Mapping[str, tuple[str, ...]]):
        self._broader = {uri: tuple(up) for uri, up in broader.items()}
        narrower: dict[str, set[str]] = defaultdict(set)
        for uri, ups in self._broader.items():
            for up in ups:
                narrower[up].add(uri)
        self._narrower = {uri: frozenset(down) for uri, down in narrower.items()}

    @classmethod
    def of(cls, reference) -> SkillRelationsOnFirstUse:
        """The relations of the reference data's skills, built on the first query."""
        return SkillRelationsOnFirstUse(
            lambda: cls({uri: s.broader for uri, s in reference.skills.items()}))

    def related(self, uri: str) -> dict[str, Relation]:
        """Every skill that counts towards ``uri``, with how much; ``uri`` itself
        counts fully. Where two relations apply, the stronger one is kept."""
        found: dict[str, Relation] = {}
        for up in self._broader.get(uri, ()):
            siblings = self._narrower.get(up, frozenset())
            if len(siblings) <= MAX_SIBLINGS:
                for sibling in siblings:
                    found[sibling] = Relation("sibling", SIBLING)
        for down in self._narrower.get(uri, ()):
            found[down] = Relation("narrower", NEAR)
        for up in self._broader.get(uri, ()):
            found[up] = Relation("broader", NEAR)
        found[uri] = Relation("exact", EXACT)
        return found


class SkillRelationsOnFirstUse:
    """SkillRelations built when the first query asks, by whichever thread asks
    first: building them reads ESCO, which a process that ranks nobody never needs
    (schemas.reference reads ESCO on first use too)."""

    def __init__(self, build) -> None:
        self._build = build
        self._built: SkillRelations | None = None
        self._lock = threading.Lock()

    def related(self, uri: str) -> dict[str, Relation]:
        if self._built is None:
            with self._lock:
                if self._built is None:
                    self._built = self._build()
        return self._built.related(uri)
