"""The rating summary a holder may publish, computed in the pod from the ratings in
its inbox: the holder decides whether to show it, not what it says.

A rating is a message from the delivering server's rating sender holding four
aspects scored 1 to 5 (registry/ratings.py makes them). The summary is the number of
ratings and the mean of all their aspects as decimal text with one decimal (signed
documents hold no floats). A message that is unreadable, from another sender or not
shaped as a rating does not count.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

from .inbox import Message

ASPECTS = ("collaboration", "expertise", "reliability", "communication")
SUMMARY_TYPE = "RatingSummary"
MAX_COUNT = 10_000


def rating_summary(messages: Iterable[Message], sender: str) -> dict[str, Any] | None:
    """The summary of the ratings among ``messages``; None when there is none."""
    count, scores = 0, []
    for message in messages:
        aspects = _aspects(message) if message.sender == sender else None
        if aspects is not None:
            count += 1
            scores.extend(aspects)
    if count == 0:
        return None
    mean = Decimal(sum(scores)) / Decimal(len(scores))
    return {"type": SUMMARY_TYPE, "ratingCount": min(count, MAX_COUNT),
            "averageScore": str(mean.quantize(Decimal("0.1"), ROUND_HALF_UP))}


def _aspects(message: Message) -> list[int] | None:
    if message.body is None:
        return None
    try:
        rating = json.loads(message.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    aspects = rating.get("aspects") if isinstance(rating, dict) else None
    if rating.get("type") != "Rating" or not isinstance(aspects, dict) or set(
            aspects) != set(ASPECTS):
        return None
    scores = [aspects[name] for name in ASPECTS]
    if not all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= 5
               for s in scores):
        return None
    return scores
