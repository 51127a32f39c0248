"""Bodies of the swipe, team, rating, alert and group routes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .models import Strict


class SwipeIn(Strict):
    decision: Literal["like", "pass"]


class TeamCreate(Strict):
    assignment: int = Field(ge=1)
    members: list[str] = Field(min_length=1, max_length=50)
    name: str | None = Field(default=None, min_length=3, max_length=80)


class ProductCreate(Strict):
    title: str = Field(min_length=1, max_length=200)
    url: str | None = Field(default=None, max_length=2000)
    fileName: str | None = Field(default=None, max_length=200)
    mediaType: str | None = Field(default=None, max_length=100)
    content: str | None = Field(default=None, max_length=180_000)


class RatingCreate(Strict):
    subject: str = Field(min_length=1, max_length=32)
    aspects: dict[str, int]
    comment: str = Field(default="", max_length=1000)


class AlertSettingsIn(Strict):
    frequency: Literal["immediately", "daily", "weekly"]
    minScore: int = Field(ge=0, le=100)


class GroupCreate(Strict):
    slug: str = Field(min_length=3, max_length=80)
    name: str = Field(min_length=1, max_length=120)
    theme: str = Field(default="", max_length=500)
