"""Where the shared known-answer vectors live: ``VG_VECTORS_DIR``, else
``shared/vectors`` next to the checkout. Tests that need them skip, naming the
directory, when it is absent; the vectors are never copied into the repository."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

VECTORS = Path(
    os.environ.get("VG_VECTORS_DIR")
    or Path(__file__).resolve().parents[3] / "shared" / "vectors"
)


def vector_dir(name: str) -> Path:
    folder = VECTORS / name
    if not folder.is_dir():
        pytest.skip(f"known-answer vectors not found at {folder} (set VG_VECTORS_DIR)")
    return folder
