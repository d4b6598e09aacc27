"""What every benchmark's stack shares: starting and stopping the system on this machine.

``BenchStack`` is a context manager around a ``Supervisor`` (its output in <var>/logs/bench.log):
a subclass starts embedded PostgreSQL and Redis (``backing_services``), sets Django up in this
process (``setup_django``) and starts whatever else it needs in ``start``. Everything it started
stops when the ``with`` block ends, on Ctrl-C and when starting fails too; ``stopping`` runs
while the servers still run, ``stopped`` once every process has exited.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from dynchat.launcher import start_backing_services
from dynchat.supervisor import Supervisor


def say(line: str = "") -> None:
    print(line, flush=True)


class BenchStack:
    """PostgreSQL, Redis and other processes under one supervisor, Django in this process."""

    def __init__(self, var: Path) -> None:
        self.var = var
        self.logs = var / "logs"
        self.env: dict[str, str] = {}  # the environment of every process started after Django
        self.log_file: IO[str] | None = None
        self.supervisor: Supervisor | None = None

    def __enter__(self) -> Self:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.log_file = (self.logs / "bench.log").open("a")
        self.supervisor = Supervisor(out=self.log_file, colour=False).__enter__()
        try:
            self.start(self.supervisor)
        except BaseException as error:
            self.__exit__(type(error), error, error.__traceback__)
            raise
        return self

    def start(self, supervisor: Supervisor) -> None:
        """Start the servers and set Django up."""
        raise NotImplementedError

    def backing_services(
        self, supervisor: Supervisor, *, drop: tuple[str, ...] = ()
    ) -> dict[str, str]:
        """This process's environment less the variables starting with ``drop``, and with
        PostgreSQL and Redis of our own, whatever DATABASE_URL and REDIS_URL said."""
        unwanted = ("DATABASE_URL", "REDIS_URL", *drop)
        env = {k: v for k, v in os.environ.items() if not k.startswith(unwanted)}
        start_backing_services(supervisor, self.var, env, durable=False)
        return env

    def setup_django(self, env: dict[str, str]) -> None:
        """Make ``env`` this process's and later processes' environment; set Django up, migrate."""
        env.update(DYNCHAT_VAR_DIR=str(self.var), PYTHONUNBUFFERED="1")
        self.env = env
        os.environ.update(env)
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)

    def stopping(self) -> None:
        """Before the processes stop (this process's database connections are closed)."""

    def stopped(self, *, failed: bool) -> None:
        """Once every process has exited; ``failed`` when the ``with`` block raised."""

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        self.stopping()
        swallowed = False
        if self.supervisor is not None:
            swallowed = self.supervisor.__exit__(kind, error, traceback)
        if self.log_file is not None:
            self.log_file.close()
        self.stopped(failed=kind is not None)
        if swallowed:
            say("stopped: every process the benchmark started has exited")
        return swallowed
