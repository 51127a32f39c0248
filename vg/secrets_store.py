"""Server secrets kept as files in the data directory (mode 0600, created once).

Creation uses a hard link from a private temporary file, which fails if the name
exists: when several workers start at once, exactly one secret wins and all read it.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from pod.files import fsync_dir


def server_secret(data_dir: Path, name: str) -> bytes:
    path = data_dir / "secrets" / name
    if not path.exists():
        _create_once(path)
    value = path.read_bytes()
    if len(value) != 32:
        raise RuntimeError(f"server secret {path} is damaged: expected 32 bytes")
    return value


def _create_once(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        os.write(fd, secrets.token_bytes(32))
        os.fsync(fd)
        os.close(fd)
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        Path(tmp).unlink(missing_ok=True)
    fsync_dir(path.parent)
