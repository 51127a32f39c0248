"""The composition root builds a system that reads ESCO only when it is needed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from schemas import check_references
from tests.factories import full_workcontext, holder_key
from vg.settings import Settings
from vg.wiring import build_system


def test_a_built_system_reads_esco_on_the_first_question_about_a_skill(tmp_path: Path):
    system = build_system(Settings(data_dir=tmp_path, kdf_level="interactive"))

    assert not system.reference.esco.loaded
    check_references(system.reference, full_workcontext(holder_key(1).did))
    assert system.reference.esco.loaded


def test_the_registry_builds_its_skill_relations_on_its_first_query(tmp_path: Path):
    system = build_system(Settings(data_dir=tmp_path, kdf_level="interactive"))
    skill = full_workcontext(holder_key(1).did)["skills"][0]

    assert not system.reference.esco.loaded
    assert system.registry.relations.related(skill)[skill].kind == "exact"
    assert system.reference.esco.loaded


def test_a_system_over_current_databases_is_built_without_alembic_or_numpy(
        tmp_path: Path):
    """A serving worker finds the schema the parent migrated: no Alembic in memory;
    numpy comes with the first ranking, so a process serving pods never holds it."""
    build_system(Settings(data_dir=tmp_path, kdf_level="interactive"))
    script = ("import sys; from vg.settings import Settings; "
              "from vg.app import create_app; "
              f"create_app(Settings(data_dir={str(tmp_path)!r}, "
              "kdf_level='interactive')); "
              "print(sorted(m for m in sys.modules "
              "if m.split('.')[0] in ('alembic', 'numpy')))")
    repo = Path(__file__).parents[2]
    found = subprocess.run([sys.executable, "-c", script], capture_output=True,
                           text=True, check=True, cwd=repo,
                           env={**os.environ, "PYTHONPATH": str(repo)})

    assert found.stdout.strip() == "[]"


# What a serving worker loads only when it first needs it, and what needs it.
DEFERRED_MODULES = (
    "cryptography",  # the audit log's checkpoint key: signing or showing it
    "jinja2",  # the first web page
    "sqlalchemy.dialects.postgresql",  # a registry on PostgreSQL
)


def test_a_built_application_loads_what_it_uses_rarely_on_first_use(tmp_path: Path):
    """The memory of a worker at rest is the code it needs to answer: a worker that
    only streams binaries never signs a checkpoint, renders a page or speaks to
    PostgreSQL."""
    build_system(Settings(data_dir=tmp_path, kdf_level="interactive"))
    script = ("import sys; from vg.settings import Settings; "
              "from vg.app import create_app; "
              f"create_app(Settings(data_dir={str(tmp_path)!r}, "
              "kdf_level='interactive')); "
              f"print(sorted({{d for m in sys.modules for d in {DEFERRED_MODULES!r} "
              "if m == d or m.startswith(d + '.')}))")
    repo = Path(__file__).parents[2]
    found = subprocess.run([sys.executable, "-c", script], capture_output=True,
                           text=True, check=True, cwd=repo,
                           env={**os.environ, "PYTHONPATH": str(repo)})

    assert found.stdout.strip() == "[]"
