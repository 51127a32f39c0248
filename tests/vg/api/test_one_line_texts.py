"""A name or a title is one line: a tab, a line feed, a carriage return or a line
or paragraph separator in it is refused. Every text field of every request body is
held to it, except those a model declares to keep their line breaks (descriptions,
themes, comments); the refusals where a name or a title is written are
test_names_and_titles.py's."""

from __future__ import annotations

import typing

import pytest
from pydantic import ValidationError

from registry.errors_work import InvalidWorkInput
from schemas import is_one_line
from tests.vg.api.test_strict_bodies import _request_models, app  # noqa: F401

BREAKS = ["Groep\nnaam", "Groep\tnaam", "Groep\rnaam", "Groep\u2028naam",
          "Groep\u2029naam", "Groep\x85naam"]
# The fields of request bodies that may hold several lines, each a decision.
MULTI_LINE = {
    "AssignmentCreate": {"description"},
    "GroupCreate": {"theme"},
    "RatingCreate": {"comment"},
    # a passphrase is never shown, and must keep opening the pod it was made with
    "PodCreate": {"passphrase"}, "SessionCreate": {"passphrase"},
    "PassphraseConfirm": {"passphrase"}, "PassphraseChange": {"current", "new"},
}


def _holds_text(annotation) -> bool:
    return annotation is str or any(_holds_text(argument)
                                    for argument in typing.get_args(annotation))


def _shaped(annotation, text: str):
    """``text`` where a field of ``annotation`` takes a text: itself, in a list
    or as a mapping's value."""
    origin = typing.get_origin(annotation)
    if origin is list:
        return [text]
    if origin is dict:
        return {"kind": text}
    for argument in typing.get_args(annotation):
        if typing.get_origin(argument) in (list, dict):
            return _shaped(argument, text)
    return text


def _refused_at(model, field: str, value) -> bool:
    try:
        model.model_validate({field: value})
    except ValidationError as exc:
        return any(error["loc"][:1] == (field,) for error in exc.errors())
    return False


def test_every_text_field_of_every_request_body_is_one_line_unless_declared(app):  # noqa: F811,E501
    models = _request_models(app)
    found: dict[str, set[str]] = {}

    for model in models:
        for name, field in model.model_fields.items():
            if not _holds_text(field.annotation):
                continue
            value = _shaped(field.annotation, "een\u2028twee")
            if not _refused_at(model, name, value):
                found.setdefault(model.__name__, set()).add(name)

    assert found == MULTI_LINE


def test_the_declared_multi_line_fields_are_the_models_own(app):  # noqa: F811
    declared = {model.__name__: set(model.MULTI_LINE)
                for model in _request_models(app) if getattr(model, "MULTI_LINE", ())}

    assert declared == MULTI_LINE


@pytest.mark.parametrize("text", BREAKS)
def test_the_rule_finds_each_line_break(text):
    assert not is_one_line(text)
    assert is_one_line(text.replace(text[5], " "))


def test_the_registry_refuses_a_group_name_of_two_lines_whatever_the_way_in(world):
    with pytest.raises(InvalidWorkInput) as refused:
        world.system.work.peers.create_group(
            "twee-regels", "Groep\u2028naam", "", "did:key:z6Mkexample",
            world.clock["now"])

    assert refused.value.problems == ["name must be one line (no tab, line feed, "
                                      "carriage return or line separator)"]
