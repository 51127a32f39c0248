"""JSON-LD processing that never touches the network (DESIGN.md invariant 6).

Every context the system accepts ships in ``schemas/context``; the document loader
serves exactly those and refuses any other URL. Documents are bounded in size, depth
and count before pyld sees them, and every key must be a term of the shipped context,
because pyld silently drops unknown terms (the signature would then cover less than
the holder wrote).

pyld is imported when the first document is expanded, not with this module: a
server process that only streams binaries never needs it.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from pathlib import Path
from typing import Any

import orjson

from .errors import DocumentTooLarge, InvalidDocument, RemoteContextRefused

CONTEXT_DIR = Path(__file__).with_name("context")
WORKCONTEXT_CONTEXT_URL = (
    "https://w3id.org/virtuele-gemeente/contexts/workcontext-v1.jsonld"
)
CONSENT_RECORD_CONTEXT_URL = (
    "https://w3id.org/virtuele-gemeente/contexts/consent-record-v1.jsonld"
)
SHIPPED_CONTEXTS = {
    WORKCONTEXT_CONTEXT_URL: CONTEXT_DIR / "workcontext-v1.jsonld",
    CONSENT_RECORD_CONTEXT_URL: CONTEXT_DIR / "consent-record-v1.jsonld",
}

MAX_DOCUMENT_BYTES = 64 * 1024
MAX_DEPTH = 8
MAX_NODES = 2000
NOT_UTF8 = ("document must be UTF-8 without a byte order mark (RFC 8259 "
            "section 8.1)")


class ShippedContextLoader:
    """A pyld document loader that serves only the contexts shipped with the code."""

    def __init__(self) -> None:
        self._frozen = None

    def __call__(self, url: str, options: dict | None = None) -> dict:
        if url not in SHIPPED_CONTEXTS:
            raise RemoteContextRefused(url)
        if self._frozen is None:
            from pyld import FrozenDocumentLoader

            self._frozen = FrozenDocumentLoader(dict(SHIPPED_CONTEXTS))
        return self._frozen(url, options or {})


def load_context_terms(url: str = WORKCONTEXT_CONTEXT_URL) -> frozenset[str]:
    """The term names a shipped context defines (keywords and prefixes excluded)."""
    context = json.loads(SHIPPED_CONTEXTS[url].read_text(encoding="utf-8"))["@context"]
    return frozenset(k for k in context if not k.startswith("@"))


def parse_bounded(raw: bytes | str) -> Any:
    """Parse JSON, refusing oversized or deeply nested input before it costs anything."""
    # A lone surrogate in a text has no UTF-8 form; it is counted as three bytes
    # and refused below with the other forbidden characters.
    size = len(raw) if isinstance(raw, str) and raw.isascii() else len(
        raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw)
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge(size, MAX_DOCUMENT_BYTES)
    if isinstance(raw, bytes):
        raw = _as_utf8_text(raw)
    # Every text in the value is a run of the raw text or the result of an escape:
    # without a backslash and without a forbidden character in the raw text, no
    # member name or string can hold one, and the walk need not look at each.
    # (Bytes that are no UTF-8 stay bytes: always walked.)
    if isinstance(raw, str) and "\\" not in raw and not _has_forbidden(raw):
        return _parse_plain(raw)
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if _too_deep(_structure(text)):
        raise InvalidDocument([f"document is nested deeper than {MAX_DEPTH} levels"])
    try:
        value = json.loads(raw, object_pairs_hook=_refuse_duplicate_keys)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise InvalidDocument([_json_problem(exc)]) from exc
    _check_bounds(value, texts=True)
    return value


def _as_utf8_text(raw: bytes) -> bytes | str:
    """The text of a body, when it is valid UTF-8: the json module reads the
    bytes as that text, so the text takes the cheaper ways below. A body in
    UTF-16 or UTF-32, or with a byte order mark, is refused: JSON exchanged
    between systems is UTF-8 and starts with no mark (RFC 8259 section 8.1),
    and the json module would otherwise read it as if it were. Bytes that are
    no UTF-8 (such as an encoded lone surrogate) stay bytes, refused below with
    what they hold."""
    if json.detect_encoding(raw) != "utf-8":
        raise InvalidDocument([NOT_UTF8])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def _parse_plain(text: str) -> Any:
    """``parse_bounded`` for a text without a backslash or a forbidden character.

    Without a backslash every string literal is a plain pair of quotes, so the
    text between them is the structure alone. Its colons are the member
    separators, one per member written (RFC 8259 section 4), so a duplicate name
    shows as fewer members in the parsed objects than colons in the structure:
    counted so, instead of a call per object into a hook that builds each one
    from its pairs (a third of the parse)."""
    structure = "".join(text.split('"')[::2])
    depth = _depth(structure)
    if depth > MAX_DEPTH:
        raise InvalidDocument([f"document is nested deeper than {MAX_DEPTH} levels"])
    if _plainly_within_bounds(structure, depth):
        value = _read_fast(text, structure)
        if value is not _UNREAD:
            return value
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidDocument([_json_problem(exc)]) from exc
    if _check_bounds(value, texts=False) != structure.count(":"):
        raise InvalidDocument([_json_problem(_DuplicateKey())])
    return value


_UNREAD = object()


def _read_fast(text: str, structure: str) -> Any:
    """orjson's reading of ``text`` where it is the json module's, else ``_UNREAD``:
    a syntax error, a duplicate name or a number spelled longer than needed (as in
    ``-0``) is then read, and named, by the json module."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return _UNREAD
    return value if _as_written(value, text, structure) else _UNREAD


def _plainly_within_bounds(structure: str, depth: int) -> bool:
    """Whether the structure alone shows that the parsed value will pass
    ``_check_bounds``, so that the walk can be left out: a value lies one level
    below its innermost bracket, so brackets at most MAX_DEPTH - 1 deep keep
    every value within MAX_DEPTH; each value is the first in the document or in
    its container, or follows a comma, so there are at most 1 + commas + opening
    brackets of them; and without a fraction, an exponent, ``NaN``,
    ``Infinity`` or a run of 16 digits every number is an integer within
    MAX_INTEGER (15 digits at most). Where it shows that, the text is parsed by
    orjson, which reads such a text as the json module does, in a third of the
    time."""
    return (depth < MAX_DEPTH
            and 1 + structure.count(",") + structure.count("[")
            + structure.count("{") <= MAX_NODES
            and _small_integers_only(structure))


def _small_integers_only(structure: str) -> bool:
    """Whether ``_NOT_A_SMALL_INTEGER`` does not occur in the structure. In ASCII
    it is told by substring searches over the bytes with every digit written as
    0, in a fifth of the pattern's time: an exponent's ``e`` follows a digit, so
    it is no part of a ``true`` or ``false`` (where ``u`` and ``s`` precede it),
    and an ``e`` left once those are taken out can only be one (or no JSON)."""
    if not structure.isascii():
        return _NOT_A_SMALL_INTEGER.search(structure) is None
    plain = structure.encode("ascii").translate(_DIGITS_AS_ZERO)
    return not (b"." in plain or b"N" in plain or b"I" in plain or b"E" in plain
                or b"0" * 16 in plain
                or b"e" in plain.replace(b"true", b"").replace(b"false", b""))


# Outside strings a dot, an N or an I only occur in a fraction, NaN or Infinity.
_NOT_A_SMALL_INTEGER = re.compile(r"[.NI]|[0-9][eE]|[0-9]{16}")
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)


def _as_written(value: Any, text: str, structure: str) -> bool:
    """Whether every member of ``text`` (without a backslash) is in ``value``.

    orjson writes such a value compactly with every string as it stands in the
    text (no string in it holds a quote, a backslash or a control character)
    and every number at its shortest; a member dropped as a duplicate only makes
    the writing shorter. So the writing is as long as the text without the
    whitespace between its tokens exactly when nothing was dropped and every
    number was written at its shortest already: a walk that counts the
    members of every object took twice as long."""
    size = len(text) if text.isascii() else len(text.encode("utf-8"))
    spaces = sum(structure.count(c) for c in " \n\r\t")
    return len(orjson.dumps(value)) == size - spaces


def _has_forbidden(text: str) -> bool:
    """Whether ``_FORBIDDEN`` occurs in ``text``. In ASCII it can only be a C0
    control or DEL: a text without any control character (tab, line feed and carriage
    return included) is told apart by deleting them from its bytes, in a quarter
    of the time of the pattern."""
    if text.isascii():
        ascii_bytes = text.encode("ascii")
        if len(ascii_bytes.translate(None, _C0_CONTROLS)) == len(ascii_bytes):
            return False
    return _FORBIDDEN.search(text) is not None


_C0_CONTROLS = bytes([*range(0x20), 0x7f])  # and DEL, the one ASCII control above


class _DuplicateKey(ValueError):
    pass


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict:
    """RFC 8259 leaves duplicate names undefined; we refuse them, so a signer and a
    reader can never see different values."""
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey("duplicate member names")
    return result


def _json_problem(exc: BaseException) -> str:
    if isinstance(exc, _DuplicateKey):
        return "body has duplicate member names in one object"
    return "body is not valid JSON"


def _structure(text: str) -> str:
    """The text with its string literals cut out (an unterminated one runs to the
    end), so that only the brackets of the structure are walked, in C where
    possible: a per-character loop in Python cost more than both signature checks
    of a disclosure. Without a backslash every literal is a plain pair of quotes,
    and splitting at the quotes cuts them out at a fraction of the pattern's cost."""
    if "\\" in text:
        return _STRING.sub("", text).split('"', 1)[0]
    return "".join(text.split('"')[::2])


def _too_deep(structure: str) -> bool:
    """Bracket depth of the structure, counted before parsing: the parser itself
    recurses."""
    return _depth(structure) > MAX_DEPTH


def _depth(structure: str) -> int:
    """The deepest nesting of the brackets: the largest count of opening less
    closing ones before any point. An ASCII structure's brackets are cut out as
    bytes, written as round ones: once every empty pair is taken out, pass by
    pass, a balanced nesting is gone after as many passes as it is deep (each
    pass takes away the innermost level), in C and a third of the time of
    counting bracket by bracket. Anything else is counted bracket by bracket."""
    if structure.isascii():
        nesting = structure.encode("ascii").translate(_ROUND, _NOT_BRACKETS)
        depth = 0
        while nesting and depth <= MAX_DEPTH:
            inner = nesting.replace(b"()", b"")
            if len(inner) == len(nesting):
                break  # not balanced
            nesting, depth = inner, depth + 1
        if not nesting:
            return depth
    steps = (1 if b in "[{" else -1 for b in _BRACKET.findall(structure))
    return max(accumulate(steps), default=0)


_ROUND = bytes.maketrans(b"[{]}", b"(())")
_NOT_BRACKETS = bytes(c for c in range(128) if c not in b"[]{}")


# A JSON string literal, written unrolled (runs of plain characters, then one
# escape) so that the engine does not branch on every character.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def check_bounds(value: Any) -> None:
    """Refuse structures deeper than MAX_DEPTH or with more than MAX_NODES nodes."""
    _check_bounds(value, texts=True)


def _check_bounds(value: Any, texts: bool) -> int:
    """``check_bounds``; ``texts=False`` when every text is known to be free of
    forbidden characters already. Returns the number of members of all objects.
    Walked one level at a time, with one pattern search over all member names and
    strings joined by a line feed (an allowed character): a call per node cost
    more than parsing the document. Values are told apart by their exact type
    first (what a parser makes), by ``isinstance`` only for anything else."""
    count, depth, level, members = 0, 1, [value], 0
    found: list[str] = []
    while level:
        if depth > MAX_DEPTH:
            raise InvalidDocument([f"document is nested deeper than {MAX_DEPTH} levels"])
        count += len(level)
        if count > MAX_NODES:
            raise InvalidDocument([f"document has more than {MAX_NODES} values"])
        below: list[Any] = []
        for item in level:
            kind = type(item)
            if kind is str:
                if texts:
                    found.append(item)
            elif kind is dict or (kind is not list and isinstance(item, dict)):
                members += len(item)
                if texts:
                    found.extend(item)
                below.extend(item.values())
            elif kind is list or isinstance(item, list):
                below.extend(item)
            elif kind is not bool and item is not None:
                _check_scalar(item, texts, found)
        level, depth = below, depth + 1
    if found:
        _check_text("\n".join(found))
    return members


def _check_scalar(item: Any, texts: bool, found: list[str]) -> None:
    if isinstance(item, str):
        if texts:
            found.append(item)
    elif isinstance(item, int) and not isinstance(item, bool):
        if abs(item) > MAX_INTEGER:
            raise InvalidDocument([f"integers must lie within ±{MAX_INTEGER}"])
    elif isinstance(item, float):
        raise InvalidDocument(["numbers must be integers"])


# Integers an IEEE double holds exactly (RFC 8259 section 6 interoperability limit).
MAX_INTEGER = 2**53 - 1
# C0 controls other than tab, line feed and carriage return, DEL and the C1 controls
# (Unicode category Cc; U+009B is CSI, which a terminal may take as the start of an
# escape sequence); lone surrogates; and the bidirectional embedding/override/isolate
# controls that disguise text (Trojan Source).
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff]")


def holds_forbidden_characters(text: str) -> bool:
    """Whether a text holds a character no text taken by this project may hold:
    the rule every parsed body applies, for input that comes another way (a web
    form)."""
    return _FORBIDDEN.search(text) is not None


def _check_text(text: str) -> None:
    if _FORBIDDEN.search(text):
        raise InvalidDocument(
            ["text must not hold control characters, lone surrogates or "
             "bidirectional override characters"])


def unknown_terms(document: Any, terms: frozenset[str]) -> list[str]:
    """Dotted paths of keys that the context does not define."""
    found: list[str] = []

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, prefix)
        elif isinstance(node, dict):
            for key, child in node.items():
                path = f"{prefix}{key}"
                if key == "@context" and not prefix:
                    continue
                if key not in terms:
                    found.append(path)
                else:
                    walk(child, path + ".")

    walk(document, "")
    return found


def expand(document: dict, loader: ShippedContextLoader) -> list:
    """Expand with the shipped loader; any dropped property is an error, not silence."""
    from pyld import jsonld

    dropped: list[str | None] = []
    try:
        expanded = jsonld.expand(
            document,
            {"documentLoader": loader, "base": ""},
            on_property_dropped=dropped.append,
        )
    except jsonld.JsonLdError as exc:
        refused = _refused_url(exc)
        if refused is not None:
            raise refused from exc
        raise InvalidDocument([f"JSON-LD could not be expanded: {exc.code or exc}"]) from exc
    if dropped:
        raise InvalidDocument(["document has terms the context does not define"])
    return expanded


def _refused_url(exc: BaseException) -> RemoteContextRefused | None:
    """pyld wraps loader errors; find our refusal in the cause chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, RemoteContextRefused):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
