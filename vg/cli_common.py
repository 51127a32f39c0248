"""What every ``vg`` command shares: the one-line failure, and finding the instance."""

from __future__ import annotations

import os
import stat
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


def read_bytes(path: Path, what: str, limit: int) -> bytes:
    """A regular file of at most ``limit`` bytes, never read past the bound (a
    device or a pipe could be endless); up to ``limit`` + 1 bytes are returned,
    so the caller says what is too large."""
    try:
        # Opened without blocking: opening a pipe waits for a writer otherwise.
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                fail(f"{what} {path} is not a regular file")
            return file.read(limit + 1)
    except OSError as exc:
        fail(f"{what} {path} can not be read: {exc.strerror}")


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
