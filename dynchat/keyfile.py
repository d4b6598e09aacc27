"""Secrets kept in files under var/ for the embedded setup (standard library only)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def read_or_create_key(path: Path, nbytes: int = 48) -> str:
    """Return the secret stored at ``path``, creating it (mode 0600) on first use."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(nbytes)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    return key
