"""The base of every request body: strict JSON types.

Pydantic's lax mode converts what it can: ``"1"`` became the integer 1, ``1`` the
boolean true and ``1767225600`` a date, so a client's type mistake was taken as
some other value. Every request model derives from ``Strict`` (a test walks the
application's routes and fails on a body model that does not), and a value of the
wrong JSON type is refused as ``invalid-input`` naming the field.

JSON has no date type: a date or a date-time is a string in ISO 8601, so the date
types below take a string (or, from Python code, the value itself) and nothing
else, where strict mode alone would refuse the string, and only in the range of
``schemas.dates`` (a period starting in the year 1 is a mistake, not a plan).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
)
from pydantic_core import PydanticCustomError

from schemas import DAY_RANGE, day_in_range


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def _written(kind: type, example: str):
    def check(value: Any) -> Any:
        if isinstance(value, (str, kind)):
            return value
        raise PydanticCustomError(
            "date_type", "must be a string in ISO 8601 ({example})",
            {"example": example})
    return check


def _in_range(value: date) -> date:
    if not day_in_range(value):
        raise PydanticCustomError("date_range", "must be " + DAY_RANGE)
    return value


# A day written YYYY-MM-DD.
Day = Annotated[date, Field(strict=False),
                BeforeValidator(_written(date, "YYYY-MM-DD")), AfterValidator(_in_range)]

# A moment with its offset, written YYYY-MM-DDThh:mm:ss+hh:mm.
Moment = Annotated[AwareDatetime, Field(strict=False),
                   BeforeValidator(_written(datetime, "YYYY-MM-DDThh:mm:ssZ")),
                   AfterValidator(_in_range)]
