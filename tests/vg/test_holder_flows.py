"""A Workcontext reaches a pod only through holder_flows, which stores it as every
save does (its rating summary computed by the pod); an import hands each version
to the same preparation. Every file of vg is parsed, so a new way in counts too."""

from __future__ import annotations

import ast
from pathlib import Path

VG = Path(__file__).resolve().parents[2] / "vg"
# The pod's methods that store a Workcontext version.
WRITERS = {"store_version", "save_workcontext", "restore", "load"}
NOT_A_POD = {"holder_flows", "json"}  # holder_flows.save_workcontext, json.load


def writer_calls() -> list[str]:
    """Calls of a pod's writers whose document is not one ``stored_form`` made."""
    found = []
    for path in sorted(VG.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in WRITERS
                    and getattr(node.func.value, "id", None) not in NOT_A_POD
                    and not _made_by_stored_form(node)):
                found.append(f"{path.relative_to(VG).as_posix()} {node.func.attr}")
    return found


def _made_by_stored_form(call: ast.Call) -> bool:
    first = call.args[0] if call.args else None
    return isinstance(first, ast.Call) and getattr(
        first.func, "attr", getattr(first.func, "id", None)) == "stored_form"


def import_calls() -> list[ast.Call]:
    calls = []
    for path in sorted(VG.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            name = getattr(node, "func", None)
            name = getattr(name, "id", getattr(name, "attr", None))
            if isinstance(node, ast.Call) and name == "import_archive":
                calls.append(node)
    return calls


def test_a_workcontext_reaches_a_pod_only_in_its_stored_form():
    # holder_flows stores what checked_workcontext made (stored_form, then checks).
    assert writer_calls() == ["holder_flows.py store_version"]


def test_every_import_prepares_each_version_as_a_save_would():
    calls = import_calls()

    assert calls
    for call in calls:
        prepare = {k.arg: k.value for k in call.keywords}.get("prepare")
        assert getattr(prepare, "attr", None) == "stored_form"
