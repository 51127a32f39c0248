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
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from schemas import DAY_RANGE, ONE_LINE, day_in_range, is_one_line


class Strict(BaseModel):
    """Every text of a body is one line (``schemas.is_one_line``: no tab, line
    feed, carriage return or line separator), in a list or a mapping too, except
    in the fields a model names in ``MULTI_LINE``: a new field is one line unless
    it says otherwise, and a test walks every model for it."""

    model_config = ConfigDict(extra="forbid", strict=True)
    MULTI_LINE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="after")
    @classmethod
    def _one_line(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name in cls.MULTI_LINE:
            return value
        if not all(is_one_line(text) for text in _texts(value)):
            raise PydanticCustomError("one_line", ONE_LINE)
        return value


def _texts(value: Any) -> list[str]:
    """The texts of a field's value: itself, or the items of a list or a mapping
    (a nested model checks its own)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [item for item in value if isinstance(item, str)]
    if isinstance(value, dict):
        return [text for pair in value.items() for text in pair
                if isinstance(text, str)]
    return []


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
