"""Projection holds exactly the granted fields, for every subset of the catalogue.

Two independent checks per subset: ``disclosed_fields`` (the registry's reading) and
a comparison of the raw leaf values with the values the granted fields own in the
full Workcontext, where a leaf belongs to the most specific field whose path leads
to it (``functionLevel.salaryScale`` belongs to salary_scale, not to level).
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from itertools import combinations
from typing import Any

import pytest

from consent import (
    Audience,
    ProjectionMismatch,
    UnknownField,
    disclosed_fields,
    make_disclosure,
    new_grant,
    project,
)
from schemas.catalogue import FIELDS
from tests.factories import NOW, full_workcontext, holder_key

WORKCONTEXT = full_workcontext(holder_key(1).did)
PATHS = {key: field.path for key, field in FIELDS.items()}
TOP_STRUCTURE = ("@context", "id", "type")

Leaves = dict[tuple[str, ...], Any]
# Fields every purpose can carry together with matching; the rest go with teamwork.
MATCHABLE = frozenset(k for k, f in FIELDS.items() if "matching" in f.purposes)


def all_subsets() -> list[frozenset[str]]:
    keys = sorted(FIELDS)
    return [frozenset(c) for n in range(len(keys) + 1) for c in combinations(keys, n)]


def leaves(node: dict, prefix: tuple[str, ...] = ()) -> Leaves:
    """Every non-object value by path; structure (``@context``, ids, types) left out."""
    found: Leaves = {}
    for key, value in node.items():
        if key in TOP_STRUCTURE and (not prefix or key == "type"):
            continue
        if isinstance(value, dict):
            found.update(leaves(value, prefix + (key,)))
        else:
            found[prefix + (key,)] = value
    return found


def owner(path: tuple[str, ...]) -> str | None:
    """The most specific catalogue field whose path leads to ``path``."""
    owning = [k for k, p in PATHS.items() if path[: len(p)] == p]
    return max(owning, key=lambda k: len(PATHS[k]), default=None)


def expected_leaves(granted: frozenset[str]) -> Leaves:
    return {p: v for p, v in leaves(WORKCONTEXT).items() if owner(p) in granted}


def objects_hold_data(node: dict, top: bool = True) -> bool:
    """No nested object is empty or holds nothing but its type."""
    for key, value in node.items():
        if isinstance(value, dict):
            if not set(value) - {"type"} or not objects_hold_data(value, False):
                return False
    return True


def test_the_workcontext_under_test_holds_every_catalogue_field():
    assert disclosed_fields(WORKCONTEXT) == frozenset(FIELDS)
    assert {owner(p) for p in leaves(WORKCONTEXT)} == set(FIELDS)


def test_projection_holds_exactly_the_granted_fields_for_every_subset():
    subsets = all_subsets()
    assert len(subsets) == 2 ** len(FIELDS) == 8192

    for granted in subsets:
        projected = project(WORKCONTEXT, sorted(granted))

        assert leaves(projected) == expected_leaves(granted), sorted(granted)
        assert {k: projected[k] for k in TOP_STRUCTURE} == {
            k: WORKCONTEXT[k] for k in TOP_STRUCTURE}
        assert objects_hold_data(projected), sorted(granted)
        assert disclosed_fields(projected) == granted, sorted(granted)


def test_projection_never_changes_the_workcontext():
    before = copy.deepcopy(WORKCONTEXT)
    for granted in all_subsets()[::97]:
        project(WORKCONTEXT, sorted(granted))

    assert WORKCONTEXT == before


def test_salary_scale_never_appears_when_only_level_is_granted():
    projected = project(WORKCONTEXT, ["level"])

    assert projected["functionLevel"]["levelRank"] == 3
    assert "salaryScale" not in projected["functionLevel"]
    assert "11" not in str(projected["functionLevel"])
    assert disclosed_fields(projected) == {"level"}


def test_granting_level_with_salary_scale_discloses_both():
    projected = project(WORKCONTEXT, ["level", "salary_scale"])

    assert projected["functionLevel"]["salaryScale"] == 11
    assert disclosed_fields(projected) == {"level", "salary_scale"}


def test_salary_scale_granted_without_level_is_read_as_salary_scale_only():
    projected = project(WORKCONTEXT, ["salary_scale"])

    assert projected["functionLevel"] == {"type": "FunctionLevel", "salaryScale": 11}
    assert disclosed_fields(projected) == {"salary_scale"}


def test_project_refuses_a_field_outside_the_catalogue():
    with pytest.raises(UnknownField) as caught:
        project(WORKCONTEXT, ["skills", "bsn"])

    assert caught.value.field == "bsn"


def base() -> dict:
    return project(WORKCONTEXT, ["skills", "hours_per_week"])


def with_member(path: tuple[str, ...], value: Any) -> dict:
    document = base()
    node = document
    for step in path[:-1]:
        node = node.setdefault(step, {})
    node[path[-1]] = value
    return document


@pytest.mark.parametrize("path", [
    ("bsn",),
    ("worksFor2",),
    ("availability", "hoursPerWeekend"),
    ("availability", "id"),
    ("availability", "@context"),
    ("availability", "period2"),
    ("membership", "since"),
], ids=".".join)
def test_disclosed_fields_refuses_a_stray_key(path):
    with pytest.raises(ProjectionMismatch) as caught:
        disclosed_fields(with_member(path, "123456782"))

    dotted = ".".join(path)
    assert any(dotted == p or dotted.startswith(p + ".") for p in caught.value.paths)


def test_disclosed_fields_refuses_a_stray_object_under_a_container():
    document = with_member(("availability", "extra"), {"hoursPerWeek": 3})

    with pytest.raises(ProjectionMismatch):
        disclosed_fields(document)


@pytest.mark.parametrize("path", [("type",), ("availability", "type")], ids=".".join)
def test_disclosed_fields_refuses_data_hidden_under_a_structural_key(path):
    with pytest.raises(ProjectionMismatch):
        disclosed_fields(with_member(path, {"email": "jan.jansen@example.nl"}))


# -- nothing that reveals a withheld field ------------------------------------------

def scalar_tokens(node: Any) -> set[str]:
    """Every scalar in a JSON value, as its JSON text (strings quoted)."""
    if isinstance(node, dict):
        return set().union(*(scalar_tokens(v) for v in node.values())) | {
            json.dumps(k) for k in node}
    if isinstance(node, list):
        return set().union(*(scalar_tokens(v) for v in node)) if node else set()
    return {json.dumps(node)}


def withheld_tokens(granted: frozenset[str]) -> set[str]:
    """Values and keys that only a withheld field would bring: its leaf values, the
    last step of its path, and the type of an object that only it fills."""
    tokens = set()
    granted_leaves = expected_leaves(granted)
    for path, value in leaves(WORKCONTEXT).items():
        if path in granted_leaves:
            continue
        tokens |= {t for t in scalar_tokens(value) if t not in scalar_tokens(
            list(granted_leaves.values()))}
    for key in set(FIELDS) - granted:
        last = json.dumps(PATHS[key][-1])
        if all(PATHS[key][-1] not in PATHS[g] for g in granted):  # not a container
            tokens.add(last)
    return tokens


def test_no_disclosure_holds_a_value_key_or_type_of_a_withheld_field():
    key = holder_key(1)
    for granted in all_subsets()[1:]:
        grant = new_grant(key.did, Audience("all_municipalities"), ["matching"]
                          if granted <= MATCHABLE else ["teamwork"],
                          sorted(granted), NOW + timedelta(days=1), NOW)
        document = make_disclosure(WORKCONTEXT, grant, 1, key, NOW)
        # The envelope's employer is for the registry's check of the employer's
        # policy and never reaches an organisation (tests/vg/test_consent_api.py).
        seen = scalar_tokens({k: v for k, v in document.items() if k != "employer"})

        assert not seen & withheld_tokens(granted), sorted(granted)
        assert document["grant"]["fields"] == sorted(granted)
        for name, value in document["workcontext"].items():
            if isinstance(value, dict):
                inner = {PATHS[g][:2] for g in granted if len(PATHS[g]) > 1}
                assert any(p[0] == name for p in inner) or name in {
                    PATHS[g][0] for g in granted}, (name, sorted(granted))
