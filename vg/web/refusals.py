"""What a refused action says on a page, in the visitor's language.

Every domain error carries a stable code, and each code has a sentence in both
catalogues (``problem.<code>``), so a Dutch page never shows only an English
sentence. The error's own text (which field, which range) comes from the layer
that raised it and is English; it is shown beside the sentence in the page's
language (``problem_texts``), or not at all on a page in another language when it
has no known form. The pages' own form checks raise ``FormError`` with a catalogue
key, so they need no English at all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .i18n import catalogue
from .problem_texts import localised


class FormError(ValueError):
    """A form value the page itself refuses: ``key`` is the catalogue key of the
    sentence, ``field`` the catalogue key of the field's label (shown translated)
    and ``values`` fill the sentence's other placeholders as they are."""

    def __init__(self, key: str, field: str | None = None, **values: str):
        super().__init__(key)
        self.key = key
        self.field = field
        self.values = values


@dataclass(frozen=True)
class Refusal:
    sentence: str
    detail: str | None = None  # the raising layer's words, in the page's language


def explain(exc: Exception, t: Callable[..., str], lang: str = "nl") -> Refusal:
    if isinstance(exc, FormError):
        named = {"field": t(exc.field)} if exc.field else {}
        return Refusal(t(exc.key, **named, **exc.values))
    key = f"problem.{getattr(exc, 'code', '')}"
    sentence = t(key) if key in catalogue("nl") else t("error.refused")
    detail = localised(str(exc), lang, t)
    return Refusal(sentence, detail if detail and detail != sentence else None)
