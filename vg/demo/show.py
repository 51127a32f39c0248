"""Printing candidates with exactly the fields each of them consented to."""

from __future__ import annotations

from schemas import FIELDS, ReferenceData

from registry import Ranked


def describe(ranked: Ranked, reference: ReferenceData) -> list[str]:
    profile = ranked.profile
    lines = [f"score {ranked.score:3d}  subject {profile.pseudonym[:12]}  "
             f"consented fields: {', '.join(sorted(profile.fields))}"]
    for key in sorted(profile.fields):
        value = _value_at(profile.workcontext, FIELDS[key].path)
        lines.append(f"      {FIELDS[key].label_en:<20} {_text(key, value, reference)}")
    return lines


def _value_at(document: dict, path: tuple[str, ...]):
    node = document
    for step in path:
        node = node.get(step) if isinstance(node, dict) else None
    return node


def _text(key: str, value, reference: ReferenceData) -> str:
    if key == "skills":
        labels = [reference.skills[u].label_nl for u in value if u in reference.skills]
        more = f" (+{len(labels) - 3} more)" if len(labels) > 3 else ""
        return "; ".join(labels[:3]) + more
    if key == "employer":
        by_tooi = {o.tooi_uri: o.name for o in reference.organisations.values()}
        return by_tooi.get(value, value)
    if key == "occupation":
        occupation = reference.occupation(value)
        return occupation.label_nl or value
    if key == "level" and isinstance(value, dict):
        return f"{value.get('levelSystem')} {value.get('levelName')} (rank {value.get('levelRank')})"
    if key == "available_period" and isinstance(value, dict):
        return f"{value.get('startDate')} to {value.get('endDate', 'open')}"
    return str(value)
