"""Bodies of the swipe, team, rating, alert and group routes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from registry.ratings import ASPECTS

from .deps import MAX_ID
from .models import Name, Strict


class SwipeIn(Strict):
    decision: Literal["like", "pass"]


class TeamCreate(Strict):
    assignment: int = Field(ge=1, le=MAX_ID)
    members: list[Name] = Field(min_length=1, max_length=50)
    name: str | None = Field(default=None, min_length=3, max_length=80)


class ProductCreate(Strict):
    title: str = Field(min_length=1, max_length=200)
    url: str | None = Field(default=None, max_length=2000)
    fileName: str | None = Field(default=None, max_length=200)
    mediaType: str | None = Field(default=None, max_length=100)
    content: str | None = Field(default=None, max_length=180_000)


class RatingCreate(Strict):
    subject: str = Field(min_length=1, max_length=32)
    # Each aspect the registry takes, scored 1 to 5 (registry/ratings.py).
    aspects: dict[Literal[ASPECTS], Annotated[int, Field(ge=1, le=5)]] = Field(
        max_length=len(ASPECTS))
    comment: str = Field(default="", max_length=1000)


class AlertSettingsIn(Strict):
    frequency: Literal["immediately", "daily", "weekly"]
    minScore: int = Field(ge=0, le=100)


class GroupCreate(Strict):
    slug: str = Field(min_length=3, max_length=80)
    name: str = Field(min_length=1, max_length=120)
    theme: str = Field(default="", max_length=500)
