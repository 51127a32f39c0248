"""Every form field takes at most what the API takes for the same thing: a page
that refused less would leave what the API stored unsavable from the form, and one
that took more would only pass the refusal on."""

from __future__ import annotations

import pytest

from schemas import WorkcontextValidator
from vg.api.models import AssignmentCreate
from vg.api.models_work import TeamCreate
from vg.web import pages_holder, pages_org

SCHEMA = "https://schema.org/"
VG = "https://w3id.org/virtuele-gemeente/vocab#"


def properties(shapes) -> list:
    """Every property shape, those of the node shapes a property points to too."""
    found = [p for shape in shapes for p in shape.properties]
    return found + [n for p in found for n in properties(p.nodes)]


def shape_max_length(path: str) -> int:
    """The sh:maxLength of the property at ``path`` in any Workcontext shape, read
    off its compiled check as the longest text it passes."""
    [rule] = {r for p in properties(WorkcontextValidator().shapes)
              if p.path == path for r in p.rules if r.name == "maxLength"}
    low, high = 0, 100_000
    while low < high:
        middle = (low + high + 1) // 2
        if rule.test(("literal", "a" * middle, None)):
            low = middle
        else:
            high = middle - 1
    return low


def model_max_length(model, field: str) -> int:
    return next(m.max_length for m in model.model_fields[field].metadata
                if getattr(m, "max_length", None) is not None)


@pytest.mark.parametrize("form_field, path", [
    ("name", SCHEMA + "name"), ("email", SCHEMA + "email"),
    ("level_name", VG + "levelName")])
def test_the_workcontext_form_takes_the_shapes_longest_text(form_field, path):
    _, _, limit = pages_holder.WORKCONTEXT_FIELDS[form_field]

    assert limit == shape_max_length(path)


@pytest.mark.parametrize("form_field, api_field", [
    ("title", "title"), ("description", "description"), ("location", "location")])
def test_the_assignment_form_takes_the_apis_longest_text(form_field, api_field):
    _, _, limit = pages_org.ASSIGNMENT_FIELDS[form_field]

    assert limit == model_max_length(AssignmentCreate, api_field)


def test_the_team_form_takes_the_apis_members_and_name():
    assert pages_org.MAX_TEAM_VALUES == model_max_length(TeamCreate, "members")
    assert pages_org.MAX_TEAM_NAME == model_max_length(TeamCreate, "name")


def test_the_assignment_form_takes_the_apis_number_of_skills():
    assert pages_org.MAX_ASSIGNMENT_SKILLS == model_max_length(
        AssignmentCreate, "requiredSkills") == model_max_length(
        AssignmentCreate, "optionalSkills")
