"""Bulk export jobs: Created → Queued → Processing → Completed | Failed, or Cancelled.

One queue per instance (leads and activities together): at most ``bulk_queued`` jobs queued or
processing and ``bulk_processing`` processing. A job's status changes no more often than every
``status_interval`` seconds; its file is written in a background thread while it processes and
is served only once it is Completed.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync.sandbox.clock import DAY, Clock, iso
from sync.sandbox.config import Limits
from sync.sandbox.errors import ApiError, HttpError
from sync.sandbox.export_files import Spec, Written, snapshot, write
from sync.sandbox.gate import Gate
from sync.sandbox.world import World

log = logging.getLogger(__name__)
RETENTION = 7 * DAY
ACTIVE = ("Queued", "Processing")


@dataclass(eq=False)
class Job:
    export_id: str
    object: str
    client_id: str
    spec: Spec
    created_at: float
    status: str = "Created"
    changed_at: float = 0.0
    queued_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    written: Written | None = None
    error: str | None = None
    path: Path | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None
    outcome: Written | BaseException | None = None

    def view(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "exportId": self.export_id,
            "format": self.spec.format,
            "status": self.status,
            "createdAt": iso(self.created_at),
        }
        for key, value in (
            ("queuedAt", self.queued_at),
            ("startedAt", self.started_at),
            ("finishedAt", self.finished_at),
        ):
            if value is not None:
                item[key] = iso(value)
        if self.status == "Completed" and self.written is not None:
            item.update(
                numberOfRecords=self.written.records,
                fileSize=self.written.size,
                fileChecksum=self.written.checksum,
            )
        if self.error:
            item["errorMsg"] = self.error
        return item


class Exports:
    def __init__(
        self,
        world: World,
        gate: Gate,
        clock: Clock,
        limits: Limits,
        directory: Path,
        status_interval: float,
    ) -> None:
        self.world, self.gate, self.clock, self.limits = world, gate, clock, limits
        self.directory, self.status_interval = directory, status_interval
        self.jobs: dict[str, Job] = {}
        self.lock = threading.RLock()

    def _job(self, client_id: str, object_name: str, export_id: str) -> Job:
        job = self.jobs.get(export_id)
        if job is None or job.client_id != client_id or job.object != object_name:
            raise ApiError("1003", f"Export job '{export_id}' not found")
        return job

    def create(self, client_id: str, spec: Spec) -> Job:
        with self.lock:
            now = self.clock.now()
            job = Job(str(uuid.uuid4()), spec.object, client_id, spec, now, changed_at=now)
            self.jobs[job.export_id] = job
        self.gate.note("exports_created", key=spec.object)
        return job

    def enqueue(self, client_id: str, object_name: str, export_id: str) -> Job:
        with self.lock:
            job = self._job(client_id, object_name, export_id)
            if job.status in ACTIVE:
                raise ApiError("1029", "Job already queued")
            if job.status != "Created":
                raise ApiError("1003", f"Export job '{export_id}' is {job.status}, not Created")
            if self.gate.export_quota_used_up():
                raise ApiError("1029", "Export daily quota exceeded")
            if sum(1 for j in self.jobs.values() if j.status in ACTIVE) >= self.limits.bulk_queued:
                raise ApiError("1029", "Too many jobs in queue")
            now = self.clock.now()
            job.status, job.queued_at, job.changed_at = "Queued", now, now
        self.gate.note("exports_enqueued")
        return job

    def status(self, client_id: str, object_name: str, export_id: str) -> Job:
        with self.lock:
            self.tick()
            return self._job(client_id, object_name, export_id)

    def cancel(self, client_id: str, object_name: str, export_id: str) -> Job:
        with self.lock:
            job = self._job(client_id, object_name, export_id)
            if job.status in ("Created", *ACTIVE):
                self._finish(job, "Cancelled")
            return job

    def listing(self, client_id: str, object_name: str, statuses: set[str] | None) -> list[Job]:
        with self.lock:
            self.tick()
            since = self.clock.now() - RETENTION
            return [
                job
                for job in self.jobs.values()
                if job.client_id == client_id
                and job.object == object_name
                and job.created_at >= since
                and (not statuses or job.status in statuses)
            ]

    def completed_file(self, client_id: str, object_name: str, export_id: str) -> Job:
        """The job whose file may be downloaded; HTTP 404 (plain text) otherwise."""
        with self.lock:
            self.tick()
            job = self.jobs.get(export_id)
            if job is None or job.client_id != client_id or job.object != object_name:
                raise HttpError(404, f"Export job {export_id} not found")
            if job.status != "Completed" or job.path is None:
                raise HttpError(404, f"Export job {export_id} is {job.status}, not Completed")
            if (job.finished_at or 0) < self.clock.now() - RETENTION:
                raise HttpError(404, f"The file of export job {export_id} has expired")
            return job

    # The queue moves on

    def tick(self) -> None:
        """Move jobs along; called by the scheduler thread and before every status answer."""
        with self.lock:
            now = self.clock.now()
            ready = now - self.status_interval
            processing = [j for j in self.jobs.values() if j.status == "Processing"]
            for job in processing:
                if job.outcome is not None and job.changed_at <= ready:
                    self._complete(job)
            busy = sum(1 for j in self.jobs.values() if j.status == "Processing")
            queued = sorted(
                (j for j in self.jobs.values() if j.status == "Queued"),
                key=lambda j: j.queued_at or 0,
            )
            for job in queued:
                if busy >= self.limits.bulk_processing:
                    break
                if job.changed_at <= ready:
                    self._start(job, now)
                    busy += 1

    def _start(self, job: Job, now: float) -> None:
        job.status, job.started_at, job.changed_at = "Processing", now, now
        job.path = self.directory / f"{job.export_id}.{job.spec.format.lower()}"
        with self.world.lock:
            data = snapshot(self.world, job.spec)

        def run() -> None:
            try:
                assert job.path is not None  # noqa: S101 - set just above
                job.outcome = write(job.path, job.spec, data, job.cancel)
            except BaseException as error:  # the job fails; the sandbox goes on
                if not job.cancel.is_set():
                    log.exception("export %s failed", job.export_id)
                job.outcome = error

        job.thread = threading.Thread(target=run, name=f"export-{job.export_id[:8]}", daemon=True)
        job.thread.start()

    def _complete(self, job: Job) -> None:
        fault = self.gate.take_fault(
            "job", self.gate.request_count, f"/bulk/v1/{job.object}/export/{job.export_id}"
        )
        if isinstance(job.outcome, BaseException):
            self._finish(job, "Failed", f"Export failed: {job.outcome}")
        elif fault is not None and fault.code == "job-failed":
            self._finish(job, "Failed", fault.message or "Export failed: internal error")
        elif fault is not None:
            self._finish(job, "Cancelled")
        else:
            assert isinstance(job.outcome, Written)  # noqa: S101 - checked by tick()
            job.written = job.outcome
            job.status, job.finished_at = "Completed", self.clock.now()
            job.changed_at = job.finished_at
            self.gate.exported(job.written.size)

    def _finish(self, job: Job, status: str, error: str | None = None) -> None:
        job.cancel.set()
        job.status, job.error = status, error
        job.finished_at = job.changed_at = self.clock.now()
        if job.thread is not None and job.thread is not threading.current_thread():
            job.thread.join(timeout=30)
        if job.path is not None:
            job.path.unlink(missing_ok=True)
            job.path = None

    def run(self, stop: threading.Event) -> None:
        """The scheduler thread: move the queue on until ``stop`` is set."""
        interval = min(0.5, max(0.01, self.status_interval / 5))
        while not stop.wait(interval):
            try:
                self.tick()
            except Exception:
                log.exception("bulk export scheduler")

    def shutdown(self) -> None:
        with self.lock:
            for job in self.jobs.values():
                job.cancel.set()
            threads = [job.thread for job in self.jobs.values() if job.thread is not None]
        for thread in threads:
            thread.join(timeout=30)
