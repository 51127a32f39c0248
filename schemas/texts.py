"""Whether a text shows anything: a required text (a name, a title) must; and
whether it is one line, as a name or a title must be.

``str.strip`` removes white space but not format characters (Unicode category Cf:
the zero-width space, the soft hyphen, the word joiner, the byte order mark), nor
marks that combine with nothing, nor the fillers and blank patterns that render as
empty. A text made only of these is a heading, a link or an accessible name with
nothing to read, so a text that is required needs one character outside them.
"""

from __future__ import annotations

import re
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


# What ends a line or moves text on it: every C0 control (tab, line feed and
# carriage return among them; the parsers refuse the rest already), DEL, next line
# (U+0085) and the line and paragraph separators (U+2028, U+2029, Unicode
# Standard Annex 14). A name or a title shown in a list, a heading or a log line
# holds none: it would break the line, or pass for two entries.
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
# The end of the sentence a refusal says, after the field's name.
ONE_LINE = ("must be one line (no tab, line feed, carriage return or line "
            "separator)")


def is_one_line(text: str) -> bool:
    """Whether ``text`` holds nothing that breaks or moves a line."""
    return _NOT_ONE_LINE.search(text) is None


# Characters that hide in a name or a title: format characters (zero-width ones,
# the joiners, the byte order mark, the controls of writing direction, and the
# tag characters U+E0000-U+E007F, which spell invisible text), private-use code
# points (no meaning a reader shares), surrogates, and unassigned code points and
# noncharacters (U+FFFE, U+xFFFF, U+FDD0-U+FDEF: Unicode Standard section 23.7,
# "not for interchange"). Two names that look the same would differ, and one can
# carry text that nobody sees. The soft hyphen (U+00AD) stays: a long Dutch word
# marks where it may break with it, and it shows where it does.
_HIDING_CATEGORIES = frozenset({"Cf", "Co", "Cs", "Cn"})
_SHOWN_FORMAT = frozenset("\u00ad")
# The end of the sentence a refusal says, after the field's name.
NO_HIDDEN = ("must hold no hidden characters (zero-width, tag, private-use or "
             "unassigned)")


def has_hidden_character(text: str) -> bool:
    """Whether ``text`` holds a character that hides in a name or a title. Every
    ASCII character is assigned and none is a format, private-use or surrogate
    one, so an ASCII text (``str.isascii`` reads a flag the string keeps) is not
    walked: the walk cost a disclosure's checks some 80 us."""
    if text.isascii():
        return False
    return any(unicodedata.category(c) in _HIDING_CATEGORIES
               and c not in _SHOWN_FORMAT and not _joins(text, i)
               for i, c in enumerate(text) if c > "\x7f")


# The zero-width non-joiner and joiner are how Persian, the Indic scripts and
# others are written (a prefix kept apart, a half form asked for), and how emoji
# sequences are made: they show there, in the letters around them. Following the
# contexts of RFC 5892 (appendix A.1, A.2), loosely: one is shown after a virama,
# or between two letters, marks or symbols of a script other than ASCII; anywhere
# else (at an end, beside a Latin letter or a digit, beside another joiner) it
# only makes two texts that look the same differ.
_JOINERS = frozenset("\u200c\u200d")
_VIRAMA = 9  # the canonical combining class of a virama


def _joins(text: str, i: int) -> bool:
    """Whether the character at ``i`` is a joiner in a place where it shows."""
    if text[i] not in _JOINERS or i == 0:
        return False
    before = text[i - 1]
    if unicodedata.combining(before) == _VIRAMA:
        return True
    return (i + 1 < len(text) and _joinable(before) and _joinable(text[i + 1]))


def _joinable(c: str) -> bool:
    category = unicodedata.category(c)
    return c > "\x7f" and (category[0] in "LM" or category == "So")
