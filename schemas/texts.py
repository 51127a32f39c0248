"""Whether a text shows anything: a required text (a name, a title) must.

``str.strip`` removes white space but not format characters (Unicode category Cf:
the zero-width space, the soft hyphen, the word joiner, the byte order mark), nor
marks that combine with nothing, nor the fillers and blank patterns that render as
empty. A text made only of these is a heading, a link or an accessible name with
nothing to read, so a text that is required needs one character outside them.
"""

from __future__ import annotations

import unicodedata

# Control, format, separator and combining-mark categories: none shows on its own.
_UNSEEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp",
                                "Mn", "Me"})
# Letters and symbols that render blank: Hangul fillers and the blank Braille cell.
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def has_visible_character(text: str) -> bool:
    """Whether ``text`` holds a character that shows on its own."""
    return any(not (c.isspace() or c in _BLANK
                    or unicodedata.category(c) in _UNSEEN_CATEGORIES)
               for c in text)
