"""JSON-LD processing that never touches the network (DESIGN.md invariant 6).

Every context the system accepts ships in ``schemas/context``; the document loader
serves exactly those and refuses any other URL. Documents are bounded in size, depth
and count before pyld sees them, and every key must be a term of the shipped context,
because pyld silently drops unknown terms (the signature would then cover less than
the holder wrote).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pyld import FrozenDocumentLoader, jsonld

from .errors import DocumentTooLarge, InvalidDocument, RemoteContextRefused

CONTEXT_DIR = Path(__file__).with_name("context")
WORKCONTEXT_CONTEXT_URL = (
    "https://w3id.org/virtuele-gemeente/contexts/workcontext-v1.jsonld"
)
SHIPPED_CONTEXTS = {
    WORKCONTEXT_CONTEXT_URL: CONTEXT_DIR / "workcontext-v1.jsonld",
}

MAX_DOCUMENT_BYTES = 64 * 1024
MAX_DEPTH = 8
MAX_NODES = 2000


class ShippedContextLoader:
    """A pyld document loader that serves only the contexts shipped with the code."""

    def __init__(self) -> None:
        self._frozen = FrozenDocumentLoader(dict(SHIPPED_CONTEXTS))

    def __call__(self, url: str, options: dict | None = None) -> dict:
        if url not in SHIPPED_CONTEXTS:
            raise RemoteContextRefused(url)
        return self._frozen(url, options or {})


def load_context_terms(url: str = WORKCONTEXT_CONTEXT_URL) -> frozenset[str]:
    """The term names a shipped context defines (keywords and prefixes excluded)."""
    context = json.loads(SHIPPED_CONTEXTS[url].read_text(encoding="utf-8"))["@context"]
    return frozenset(k for k in context if not k.startswith("@"))


def parse_bounded(raw: bytes | str) -> Any:
    """Parse JSON, refusing oversized or deeply nested input before it costs anything."""
    size = len(raw.encode("utf-8") if isinstance(raw, str) else raw)
    if size > MAX_DOCUMENT_BYTES:
        raise DocumentTooLarge(size, MAX_DOCUMENT_BYTES)
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidDocument(["body is not valid JSON"]) from exc
    check_bounds(value)
    return value


def check_bounds(value: Any) -> None:
    """Refuse structures deeper than MAX_DEPTH or with more than MAX_NODES nodes."""
    count = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise InvalidDocument([f"document is nested deeper than {MAX_DEPTH} levels"])
        if count > MAX_NODES:
            raise InvalidDocument([f"document has more than {MAX_NODES} values"])
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


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
                if key != "@context" and key not in terms:
                    found.append(path)
                elif key != "@context":
                    walk(child, path + ".")

    walk(document, "")
    return found


def expand(document: dict, loader: ShippedContextLoader) -> list:
    """Expand with the shipped loader; any dropped property is an error, not silence."""
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
