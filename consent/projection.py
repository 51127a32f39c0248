"""Projection of a Workcontext onto granted fields, and the reverse check.

``project`` builds the disclosure body: exactly the granted fields and the structure
needed to hold them (``@context``, ``id``, ``type``). A field nested inside a granted
field (the salary scale inside the function level) is left out unless it is granted
itself. ``disclosed_fields`` is the registry's side: it names the fields a received
projection holds and refuses any value that belongs to no catalogue field.
"""

from __future__ import annotations

import copy
from typing import Any

from schemas.catalogue import FIELDS, STRUCTURAL_KEYS

from .errors import ProjectionMismatch, UnknownField

_PATHS = {key: field.path for key, field in FIELDS.items()}


def _below(path: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
    """The fields whose path lies strictly below ``path``, with the rest of it."""
    return [(key, sub[len(path):]) for key, sub in _PATHS.items()
            if len(sub) > len(path) and sub[: len(path)] == path]


# What ``disclosed_fields`` asks of every member it meets, looked up once here: the
# catalogue is fixed, and scanning it per member cost more than the walk itself.
_PREFIXES = {p[:n] for p in _PATHS.values() for n in range(1, len(p) + 1)}
_EXACT = {path: [k for k, p in _PATHS.items() if p == path] for path in _PREFIXES}
_NESTED = {path: _below(path) for path in _PREFIXES}
_NESTED_STEPS = {path: {rest[0] for _, rest in below}
                 for path, below in _NESTED.items()}


def project(workcontext: dict[str, Any], fields: list[str] | tuple[str, ...]) -> dict:
    """The part of ``workcontext`` that ``fields`` cover, and nothing else."""
    for key in fields:
        if key not in FIELDS:
            raise UnknownField(key)
    out = {k: workcontext[k] for k in ("@context", "id", "type") if k in workcontext}
    for key in fields:
        _copy_path(workcontext, out, _PATHS[key])
    for key, path in _PATHS.items():
        if key not in fields and _inside_granted(path, fields):
            _remove_path(out, path)
    return out


def _inside_granted(path: tuple[str, ...], granted) -> bool:
    return any(
        len(_PATHS[g]) < len(path) and path[: len(_PATHS[g])] == _PATHS[g]
        for g in granted
    )


def _copy_path(source: dict, target: dict, path: tuple[str, ...]) -> None:
    for depth, step in enumerate(path):
        if not isinstance(source, dict) or step not in source:
            return
        if depth == len(path) - 1:
            target[step] = copy.deepcopy(source[step])
            return
        source = source[step]
        if not isinstance(source, dict):
            return
        inner = target.setdefault(step, {})
        if "type" in source:
            inner["type"] = source["type"]
        target = inner


def _remove_path(target: dict, path: tuple[str, ...]) -> None:
    parents = []
    node: Any = target
    for step in path[:-1]:
        if not isinstance(node, dict) or step not in node:
            return
        parents.append((node, step))
        node = node[step]
    if isinstance(node, dict):
        node.pop(path[-1], None)


def disclosed_fields(projection: dict[str, Any]) -> frozenset[str]:
    """The catalogue fields present in ``projection``.

    Every value must sit at or under the path of some catalogue field; anything else
    is data the holder never consented to disclose and is refused.
    """
    present: set[str] = set()
    stray: list[str] = []
    _walk(projection, (), present, stray)
    if stray:
        raise ProjectionMismatch(stray)
    return frozenset(present)


def _walk(node: dict, prefix: tuple[str, ...], present: set[str], stray: list[str]) -> None:
    for key, value in node.items():
        if _is_structure(key, value, prefix):
            continue
        path = prefix + (key,)
        exact = _EXACT.get(path)
        if exact:
            if _holds_own_data(value, path):
                present.update(exact)
            _walk_nested_fields(value, path, present)
        elif isinstance(value, dict) and _is_container(path):
            _walk(value, path, present, stray)
        else:
            stray.append(".".join(path))


def _is_structure(key: str, value: Any, prefix: tuple[str, ...]) -> bool:
    """``@context``/``id``/``type`` at the top and ``type`` inside carry structure
    only when they are plain strings; anything else hidden under them is data."""
    if not isinstance(value, str):
        return False
    return key in STRUCTURAL_KEYS if not prefix else key == "type"


def _holds_own_data(value: Any, path: tuple[str, ...]) -> bool:
    """Whether a field's value holds more than structure and separately granted
    nested fields (``functionLevel`` holding only ``salaryScale`` is not ``level``)."""
    if not isinstance(value, dict):
        return True
    nested = _NESTED_STEPS.get(path, set())
    return any(k != "type" and k not in nested for k in value)


def _walk_nested_fields(value: Any, path: tuple[str, ...], present: set[str]) -> None:
    """Inside a field's value, a nested catalogue field counts as disclosed too."""
    for key, rest in _NESTED.get(path, ()):
        node: Any = value
        for step in rest:
            node = node.get(step) if isinstance(node, dict) else None
        if node is not None:
            present.add(key)


def _is_container(path: tuple[str, ...]) -> bool:
    """A path that only leads to fields (``availability``) without being one."""
    return bool(_NESTED.get(path))
