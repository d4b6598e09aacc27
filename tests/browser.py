"""Where the browser for the browser tests is, and what to say when there is none."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

INSTALL_HINT = (
    "Chromium not found; install it with `sudo apt-get install chromium` "
    "(or set CHROMIUM_PATH to a Chromium or Chrome binary)"
)


def chromium_path() -> str | None:
    configured = os.environ.get("CHROMIUM_PATH")
    if configured:
        return configured if Path(configured).exists() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def in_ci() -> bool:
    return os.environ.get("CI") == "true"
