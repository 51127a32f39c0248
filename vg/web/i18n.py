"""Dutch by default, English on request: one catalogue per language, the same keys.

A missing key is a programming error and shows as the key itself, which the tests
catch (every key of the Dutch catalogue is in the English one and the other way
round)."""

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


def translator(lang: str):
    messages = catalogue(language(lang))

    def t(key: str, **values) -> str:
        text = messages.get(key, key)
        return text.format(**values) if values else text

    return t
