"""A small process supervisor for ``manage.py run`` (standard library only).

Each child runs in its own session, so Ctrl-C reaches only the supervisor, which then stops the
children in reverse start order: SIGTERM (or the signal the child asks for) to the child's whole
process group, then SIGKILL after a grace period. On Linux every child also gets SIGKILL should the
supervisor itself die, so nothing outlives it.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import pwd
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, Any, Self

PR_SET_PDEATHSIG = 1
_COLOURS = ["36", "33", "35", "32", "34", "31", "96", "93"]
# Resolved once here: after fork, the child should do as little as possible.
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None


def run_as(user: str | None) -> dict[str, Any]:
    """Popen arguments that run a child as ``user`` with that user's group and no other groups.

    ``user=`` alone changes only the uid: the child would keep root's group, and for directories
    owned by group root Unix then applies the group bits, not the "other" bits.
    """
    if user is None:
        return {}
    account = pwd.getpwnam(user)
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this (forked, not yet exec'd) child when its parent dies."""
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    stop_signal: int
    grace: float
    pumps: list[threading.Thread] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    @property
    def exit_reason(self) -> str:
        return f"{self.name} exited with status {self.process.returncode}"


class Stopped(Exception):
    """A signal asked the supervisor to stop."""


class Supervisor:
    """Starts named child processes, relays their output, and stops them all on exit."""

    def __init__(self, out: IO[str] | None = None, colour: bool | None = None) -> None:
        self.children: list[Child] = []
        self.out = out or sys.stdout
        self.colour = self.out.isatty() if colour is None else colour
        self._lock = threading.Lock()
        self._stop_requested = threading.Event()
        self._previous_handlers: dict[int, object] = {}

    def __enter__(self) -> Self:
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            self._previous_handlers[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> bool:
        self.stop()
        for signum, handler in self._previous_handlers.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        # A stop signal is a normal way to leave, wherever in the block it arrived.
        return exc_type is not None and issubclass(exc_type, Stopped)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self._stop_requested.is_set():
            return
        self._stop_requested.set()
        raise Stopped(signal.Signals(signum).name)

    def say(self, name: str, line: str) -> None:
        label = f"{name:>8} |"
        if self.colour:
            code = _COLOURS[sum(map(ord, name)) % len(_COLOURS)]
            label = f"\033[{code}m{label}\033[0m"
        with self._lock:
            self.out.write(f"{label} {line}\n")
            self.out.flush()

    def start(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
        stop_signal: int = signal.SIGTERM,
        grace: float = 20.0,
        log: Path | None = None,
    ) -> Child:
        """Start ``argv`` as a supervised child.

        Its output goes to ``log`` when given, else to our output with ``name`` before each line.
        """
        log_file = open(log, "ab") if log is not None else None  # noqa: SIM115 - closed below
        try:
            process = subprocess.Popen(
                list(argv),
                env=dict(env) if env is not None else None,
                cwd=cwd,
                **run_as(user),
                stdin=subprocess.DEVNULL,
                stdout=log_file or subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            if log_file is not None:
                log_file.close()
        child = Child(name, process, stop_signal, grace)
        self.children.append(child)
        if process.stdout is not None:
            pump = threading.Thread(target=self._pump, args=(child, process.stdout), daemon=True)
            pump.start()
            child.pumps.append(pump)
        return child

    def _pump(self, child: Child, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self.say(child.name, raw.decode(errors="replace").rstrip())
        stream.close()

    def wait(self, poll: float = 0.2) -> Child:
        """Block until a child exits and return it; a stop signal raises Stopped instead."""
        while True:
            for child in self.children:
                if not child.alive():
                    return child
            time.sleep(poll)

    def stop(self) -> None:
        """Stop every child, newest first; escalate to SIGKILL after each child's grace period."""
        # Ignore further Ctrl-C while stopping, so a second press cannot orphan anything.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for child in reversed(self.children):
            self._stop_child(child)
        for child in self.children:
            for pump in child.pumps:
                pump.join(timeout=2)

    def _stop_child(self, child: Child) -> None:
        if child.alive():
            self._signal_group(child, child.stop_signal)
            try:
                child.process.wait(timeout=child.grace)
            except subprocess.TimeoutExpired:
                self.say(child.name, f"did not stop within {child.grace:.0f} s; killing it")
        # Whatever the child left in its process group goes too.
        self._signal_group(child, signal.SIGKILL)
        child.process.wait()

    @staticmethod
    def _signal_group(child: Child, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signum)
