"""What every ``vg`` command shares: the one-line failure, and finding the instance."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn, Optional

import typer

from .settings import Settings, load_settings

# Written by the first start of an instance (``vg serve`` or ``vg demo``); without it
# a directory holds no instance, whatever else is in it.
INSTANCE_MARKER = Path("secrets") / "pseudonym.key"


MAX_MESSAGE = 300


def fail(message: str) -> NoReturn:
    """One line on stderr and exit 2. A message that quotes what was given is cut
    short, so an argument of any size is never echoed whole."""
    line = " ".join(str(message).split())
    if len(line) > MAX_MESSAGE:
        line = line[:MAX_MESSAGE - 1] + "…"
    typer.echo(f"vg: {line}", err=True)
    raise typer.Exit(2)


def settings_for(data_dir: Optional[Path]) -> Settings:
    return load_settings(data_dir=data_dir) if data_dir else load_settings()


def instance_settings(data_dir: Optional[Path]) -> Settings:
    """The settings of an existing instance: a mistyped --data-dir must not quietly
    start a new, empty one (with its own keys that no server uses)."""
    settings = settings_for(data_dir)
    if not (settings.data_dir / INSTANCE_MARKER).is_file():
        fail(f"{settings.data_dir} holds no instance (start one with `vg serve` or "
             "`vg demo`, or pass --data-dir)")
    return settings
