"""Bodies of the swipe, team, rating, alert and group routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from registry.ratings import ASPECTS

from .deps import MAX_ID
from .models import Name, Strict


# The registry's team names and group slugs (registry.teams.NAME, registry.peers.SLUG)
# as a JSON Schema pattern: lowercase letters and digits in hyphen-joined words.
SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class SwipeIn(Strict):
    decision: Literal["like", "pass"]


class TeamCreate(Strict):
    assignment: int = Field(ge=1, le=MAX_ID)
    members: list[Name] = Field(min_length=1, max_length=50)
    name: str | None = Field(default=None, min_length=3, max_length=80,
                             pattern=SLUG_PATTERN)


class ProductCreate(Strict):
    title: str = Field(min_length=1, max_length=200)
    url: str | None = Field(default=None, max_length=2000)
    fileName: str | None = Field(default=None, max_length=200)
    mediaType: str | None = Field(default=None, max_length=100)
    content: str | None = Field(default=None, max_length=180_000)


class RatingCreate(Strict):
    MULTI_LINE = frozenset({"comment"})
    # The rated member as the team page names them: the name the team's
    # organisation knows them by (registry/org_pseudonyms.py).
    subject: str = Field(min_length=1, max_length=64)
    # Every aspect the registry takes, each scored 1 to 5 (registry/ratings.py):
    # a rating of some aspects only is refused.
    aspects: dict[Literal[ASPECTS], Annotated[int, Field(ge=1, le=5)]] = Field(
        min_length=len(ASPECTS), max_length=len(ASPECTS))
    comment: str = Field(default="", max_length=1000)


class AlertSettingsIn(Strict):
    frequency: Literal["immediately", "daily", "weekly"]
    minScore: int = Field(ge=0, le=100)


class GroupCreate(Strict):
    MULTI_LINE = frozenset({"theme"})
    slug: str = Field(min_length=3, max_length=80, pattern=SLUG_PATTERN)
    name: str = Field(min_length=1, max_length=120)
    theme: str = Field(default="", max_length=500)
