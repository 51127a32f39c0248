"""Command help from docstrings, as a terminal shows it.

A docstring is written for the source: reST literals (````--limit````) and lines
broken at the source's width. The help shows the literal's text in quotes and
each paragraph as one text, which the terminal wraps to its own width.
"""

from __future__ import annotations

import inspect
import re

import typer

_LITERAL = re.compile(r"``([^`]+)``|`([^`]+)`")


def plain_help(text: str) -> str:
    """``text`` without reST backticks, each paragraph on one line."""
    text = _LITERAL.sub(lambda m: f'"{m.group(1) or m.group(2)}"', text)
    paragraphs = re.split(r"\n\s*\n", text.strip())
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)


def tidy_help(app: typer.Typer) -> None:
    """Set every command's help of ``app`` and its groups to ``plain_help``."""
    for command in app.registered_commands:
        text = command.help or inspect.getdoc(command.callback) or ""
        command.help = plain_help(text)
    for group in app.registered_groups:
        tidy_help(group.typer_instance)
