"""The composition root builds a system that reads ESCO only when it is needed."""

from __future__ import annotations

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
