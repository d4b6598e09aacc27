#!/usr/bin/env python3
"""Dynchat's command line.

``python3 manage.py run``   sets everything up (virtual environment, embedded PostgreSQL and
                           Redis unless DATABASE_URL / REDIS_URL are set, migrations, demo data)
                           and runs Dynchat until Ctrl-C.
``python3 manage.py test``  runs the whole test suite: ruff, mypy and pytest.

Every other command is Django's ``manage.py``. This file uses only the standard library until the
virtual environment exists, so it runs on a fresh machine with nothing but Python 3.12+.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("DYNCHAT_VENV", ROOT / ".venv"))
LOCK = ROOT / "requirements-dev.lock"
LAUNCHER_COMMANDS = {"run", "test"}


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def ensure_venv() -> None:
    """Create the virtual environment and install the locked dependencies when they changed."""
    stamp = VENV / ".dynchat-lock"
    wanted = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text().strip() == wanted:
        return
    if not venv_python().exists():
        print(f"dynchat: creating the virtual environment in {VENV}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    print("dynchat: installing locked dependencies (first run only)", flush=True)
    pip = [str(venv_python()), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--require-hashes", "--no-deps", "-r", str(LOCK)], check=True)
    stamp.write_text(wanted + "\n")


def main() -> None:
    if sys.version_info < (3, 12):  # noqa: UP036 - any python3 may run this file
        sys.exit(f"dynchat: Python 3.12 or newer is needed; this is {sys.version.split()[0]}.")
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command in LAUNCHER_COMMANDS or not in_venv():
        try:
            ensure_venv()
        except subprocess.CalledProcessError as error:
            sys.exit(f"dynchat: setting up {VENV} failed ({error}); see the output above.")
    if not in_venv():
        args = [str(venv_python()), str(ROOT / "manage.py"), *sys.argv[1:]]
        os.execv(args[0], args)  # noqa: S606 - our own virtual environment's Python
    if command in LAUNCHER_COMMANDS:
        from dynchat.launcher import main as launch

        sys.exit(launch(sys.argv[1:]))
    from dynchat.launcher import load_running_environment

    load_running_environment()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dynchat.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
