"""``MarketoSandbox``: a local Marketo REST and Bulk API server with generated data."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Collection, Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from sync.sandbox.bulk import Exports
from sync.sandbox.call import App
from sync.sandbox.clock import Clock
from sync.sandbox.config import Changes, Dataset, Fault, Limits, SandboxStats
from sync.sandbox.gate import Gate
from sync.sandbox.mutate import mutate
from sync.sandbox.server import SandboxServer
from sync.sandbox.world import World


class MarketoSandbox:
    """A fake Marketo instance on 127.0.0.1: faithful shapes, limits, errors and job states.

    Identity at ``/identity/oauth/token``, REST under ``/rest/v1``, bulk under ``/bulk/v1``;
    ``/_sandbox/*`` controls it from another process (see ``sync.sandbox.control``).
    """

    def __init__(
        self,
        dataset: Dataset | None = None,
        limits: Limits | None = None,
        status_interval: float = 60.0,
        client_id: str = "dynchat-sandbox",
        client_secret: str = "sandbox-secret",  # noqa: S107 - a local test server's default
        munchkin_id: str = "123-ABC-456",
        export_dir: str | Path | None = None,
        competing_calls_per_window: int = 0,
    ) -> None:
        self.clock = Clock()
        self.limits = limits or Limits()
        self.client_id, self.client_secret = client_id, client_secret
        self.munchkin_id = munchkin_id
        self.world = World(dataset or Dataset(), self.clock)
        scope = f"api-user@{munchkin_id.lower()}.sandbox.example"
        self.gate = Gate(
            self.limits, self.clock, {client_id: client_secret}, competing_calls_per_window, scope
        )
        self._temporary = export_dir is None
        directory = Path(
            tempfile.mkdtemp(prefix="marketo-exports-") if export_dir is None else export_dir
        )
        directory.mkdir(parents=True, exist_ok=True)
        self.export_dir = directory
        self.exports = Exports(
            self.world, self.gate, self.clock, self.limits, directory, status_interval
        )
        self._server: SandboxServer | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    # Running

    def start(self, host: str = "127.0.0.1", port: int = 0) -> MarketoSandbox:
        """Serve in background threads; port 0 picks a free port (see ``base_url``)."""
        if self._server is not None:
            raise RuntimeError("the sandbox is already running")
        app = App(self.world, self.exports, self.gate, self.clock)
        self._server = SandboxServer((host, port), app, self._stopping)
        self._threads = [
            threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="marketo-sandbox-http",
                daemon=True,
            ),
            threading.Thread(
                target=self.exports.run,
                args=(self._stopping,),
                name="marketo-sandbox-bulk",
                daemon=True,
            ),
        ]
        for thread in self._threads:
            thread.start()
        return self

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        """Stop serving, end every connection and export, remove a temporary export folder."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server.close_connections()
        for thread in self._threads:
            thread.join(timeout=10)
        self.exports.shutdown()
        self._server, self._threads = None, []
        if self._temporary:
            shutil.rmtree(self.export_dir, ignore_errors=True)

    def __enter__(self) -> MarketoSandbox:
        if self._server is None:
            self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Control

    def add_fault(self, fault: Fault) -> None:
        self.gate.add_fault(fault)

    def clear_faults(self) -> None:
        """Disarm every scripted fault that has not fired its last time yet."""
        self.gate.clear_faults()

    def add_client(self, client_id: str, client_secret: str) -> None:
        """Another API user (custom service): its own token, its own export jobs."""
        with self.gate.lock:
            self.gate.clients[client_id] = client_secret

    def stats(self) -> SandboxStats:
        return self.gate.snapshot()

    def reset_stats(self) -> None:
        self.gate.reset_stats()

    def mutate(
        self,
        updated_leads: int = 0,
        new_leads: int = 0,
        new_activities: int = 0,
        updated_companies: int = 0,
    ) -> Changes:
        return mutate(
            self.world,
            updated_leads=updated_leads,
            new_leads=new_leads,
            new_activities=new_activities,
            updated_companies=updated_companies,
        )

    def reset_daily_quota(self) -> None:
        self.gate.reset_daily_quota()

    def advance_clock(self, seconds: float) -> None:
        self.clock.advance(seconds)

    # Ground truth

    def lead(self, lead_id: int) -> dict[str, Any] | None:
        with self.world.lock:
            return self.world.leads.get(lead_id)

    def lead_ids(self) -> Iterator[int]:
        return self.world.leads.ids()

    def lead_count(self) -> int:
        with self.world.lock:
            return self.world.leads.count()

    def company(self, company_id: int) -> dict[str, Any] | None:
        with self.world.lock:
            return self.world.companies.get(company_id)

    def company_count(self) -> int:
        with self.world.lock:
            return self.world.companies.count()

    def activity_count(
        self, type_ids: Collection[int] | None = None, since: datetime | None = None
    ) -> int:
        with self.world.lock:
            return self.world.stream.count(type_ids, since.timestamp() if since else None)

    def activity_guids(self, type_ids: Collection[int] | None = None) -> Iterator[str]:
        return self.world.stream.guids(type_ids)
