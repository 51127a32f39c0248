"""The command line's help reads as text: no reST backticks, and each paragraph
of a docstring wrapped to the terminal, not broken where the source broke it."""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from vg.cli import app


def _commands(group, path=()):
    for name, command in getattr(group, "commands", {}).items():
        yield (*path, name), command
        yield from _commands(command, (*path, name))


def test_no_command_help_holds_backticks_or_a_line_break_inside_a_paragraph():
    root = typer.main.get_command(app)

    helps = {" ".join(path): command.help or "" for path, command in _commands(root)}

    assert helps and all("`" not in text for text in helps.values())
    assert [p for p, text in helps.items()
            if "\n" in text.replace("\n\n", "")] == []


def test_audit_help_keeps_a_sentence_on_one_line_on_a_wide_terminal():
    shown = CliRunner().invoke(app, ["audit", "--help"], env={"COLUMNS": "200"},
                               terminal_width=200).output

    assert "every signed checkpoint" in shown
    assert "``" not in shown


def test_withdraw_help_shows_pending_without_backticks():
    shown = CliRunner().invoke(app, ["consent", "withdraw", "--help"],
                               env={"COLUMNS": "200"}).output

    assert '"pending"' in shown and "``" not in shown
