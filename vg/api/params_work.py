"""Bounded path parameters of the swipe, team and group routes: identifiers are
database integers, a holder the name an organisation knows them by (52 characters,
registry/org_pseudonyms.py), names and slugs at most 80 characters."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from .deps import MAX_ID

AssignmentId = Annotated[int, Path(ge=1, le=MAX_ID)]
ProductId = Annotated[int, Path(ge=1, le=MAX_ID)]
Subject = Annotated[str, Path(
    min_length=1, max_length=64,
    description="the candidate as your organisation was shown them: 52 characters "
                "a-z and 2-7 (a pseudonym of your organisation only)")]
TeamName = Annotated[str, Path(min_length=1, max_length=80)]
Slug = Annotated[str, Path(min_length=1, max_length=80)]
# Two organisations may name a team alike; a member of both names the one meant.
TeamOrganisation = Annotated[str | None, Query(
    alias="organisatie", max_length=40,
    description="the team's organisation, when two of the member's teams share a name")]
