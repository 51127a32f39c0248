"""Imports point downwards only (CONVENTIONS.md, DESIGN.md "The parts"):

    schemas <- consent <- pod
    schemas <- consent <- registry -> audit

pod and registry never import each other: whatever the registry knows about a person
crossed that boundary as a signed disclosure. vg composes everything and nothing
imports vg. Every .py file of each package is parsed (not imported), so an import
hidden in a function or under TYPE_CHECKING counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("schemas", "consent", "pod", "registry", "audit", "vg")

# package -> the project packages it must never import
FORBIDDEN = {
    "schemas": {"consent", "pod", "registry", "audit", "vg"},
    "consent": {"pod", "registry", "audit", "vg"},
    "pod": {"registry", "audit", "vg"},
    "registry": {"pod", "vg"},
    "audit": {"schemas", "consent", "pod", "registry", "vg"},
}
DYNAMIC_IMPORTERS = {"import_module", "__import__"}


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool) -> set[str]:
    """Absolute names of every module the source imports, including relative
    imports (resolved against ``module``) and literal dynamic imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(_resolve(node, module, is_package))
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            found.add(node.args[0].value)
    return found


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if node.level - 1 > len(base) - 1:
        return "<relative import above the top-level package>"
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_dynamic_import(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return (name in DYNAMIC_IMPORTERS and bool(node.args)
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str))


def package_files(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


def imports_of(package: str) -> dict[str, set[str]]:
    """Module name -> the top-level packages it imports."""
    found = {}
    for path in package_files(package):
        module = module_name(path)
        names = imported_modules(path.read_text(encoding="utf-8"), module,
                                 path.name == "__init__.py")
        found[module] = {name.split(".")[0] for name in names}
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_every_package_has_python_files_to_check(package):
    assert len(package_files(package)) >= 2


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_package_imports_no_package_above_it(package):
    violations = {
        module: sorted(names & FORBIDDEN[package])
        for module, names in imports_of(package).items()
        if names & FORBIDDEN[package]
    }

    assert violations == {}


def test_pod_never_imports_registry_and_registry_never_imports_pod():
    for module, names in imports_of("pod").items():
        assert not names & {"registry", "audit"}, module
    for module, names in imports_of("registry").items():
        assert "pod" not in names, module


@pytest.mark.parametrize("package", [p for p in PACKAGES if p != "vg"])
def test_no_package_but_vg_imports_vg(package):
    for module, names in imports_of(package).items():
        assert "vg" not in names, module


def test_no_relative_import_climbs_out_of_its_package():
    for package in PACKAGES:
        for module, names in imports_of(package).items():
            assert not any(n.startswith("<") for n in names), module


# -- the checker itself can fail ------------------------------------------------

@pytest.mark.parametrize("source, module, is_package, expected", [
    ("import registry.gate", "pod.holder", False, {"registry.gate"}),
    ("from registry import Registry", "pod.holder", False, {"registry"}),
    ("def f():\n    from pod.store import PodStore", "registry.x", False,
     {"pod.store"}),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import vg.wiring",
     "consent.grant", False, {"typing", "vg.wiring"}),
    ("from . import crypto", "pod.store", False, {"pod"}),
    ("from .errors import X", "pod", True, {"pod.errors"}),
    ("from ..registry import gate", "pod.store", False,
     {"<relative import above the top-level package>"}),
    ("import importlib\nimportlib.import_module('registry')", "pod.x", False,
     {"importlib", "registry"}),
    ("__import__('audit')", "pod.x", False, {"audit"}),
])
def test_the_import_checker_sees_every_kind_of_import(source, module, is_package,
                                                      expected):
    assert imported_modules(source, module, is_package) == expected


def test_no_two_test_modules_share_a_name():
    """The test folders are no packages, so pytest imports each module by its file
    name: a second module of the same name stops the whole run at collection."""
    names: dict[str, list[str]] = {}
    for path in sorted((REPO / "tests").rglob("test_*.py")):
        names.setdefault(path.name, []).append(str(path.relative_to(REPO)))
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}
