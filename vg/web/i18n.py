"""Dutch by default, English on request: one catalogue per language, the same keys.

A missing key is a programming error and shows as the key itself, which the tests
catch (every key of the Dutch catalogue is in the English one and the other way
round).

A sentence with a number in it has its singular beside it under the same key with
``.one`` appended ("1 kandidaat." beside "{count} kandidaten."); the translator
picks it when the number is 1, in both languages. Which placeholder is the number
is said by ``PLURAL_OF``, ``count`` unless the key is listed there."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("nl", "en")
DEFAULT = "nl"
_DIR = Path(__file__).parent / "i18n"


@cache
def catalogue(lang: str) -> dict[str, str]:
    return json.loads((_DIR / f"{lang}.json").read_text(encoding="utf-8"))


def language(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT


# The placeholder that holds the number, for sentences whose number is not ``count``.
PLURAL_OF = {"reason.level-fit": "distance"}
SINGULAR = ".one"


def translator(lang: str):
    messages = catalogue(language(lang))

    def t(key: str, **values) -> str:
        text = messages.get(key, key)
        if not values:
            return text
        if str(values.get(PLURAL_OF.get(key, "count"))) == "1":
            text = messages.get(key + SINGULAR, text)
        return text.format(**values)

    return t
