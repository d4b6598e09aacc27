"""Secrets and private state kept in files under var/ (standard library only)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_private(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600) from the first byte.

    With ``exclusive``, raise FileExistsError instead of replacing an existing file.
    """
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(text)


def read_or_create_key(path: Path, nbytes: int = 48) -> str:
    """Return the secret stored at ``path``, creating it on first use."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(nbytes)
    try:
        write_private(path, key + "\n", exclusive=True)
    except FileExistsError:  # another process created it first
        return path.read_text().strip()
    return key
