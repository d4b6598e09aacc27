"""Bulk extract: export jobs (create → enqueue → poll) and their verified, resumable download."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import urllib3

from sync.client_base import EXPORT_QUOTA_BLOCK, MarketoTransport, Outcome, http_message
from sync.errors import (
    BAD_RESPONSE,
    CONNECTION,
    DownloadCheckFailed,
    ExportNotFound,
    ExportQuotaReached,
    FatalMarketoError,
    is_already_queued,
)

type ExportObject = Literal["leads", "activities"]

CHUNK_BYTES = 1024 * 1024
# Marketo answers a call about an export id it does not know with 1003 (invalid data) or 610.
_NOT_FOUND = frozenset({"1003", "610"})
_CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


@dataclass(frozen=True)
class ExportStatus:
    export_id: str
    status: str  # Created, Queued, Processing, Completed, Failed or Canceled
    number_of_records: int | None
    file_size: int | None
    file_checksum: str | None
    error: str | None
    created_at: str | None
    finished_at: str | None

    @classmethod
    def from_result(cls, item: Mapping[str, Any]) -> ExportStatus:
        status = str(item.get("status", ""))
        return cls(
            export_id=str(item.get("exportId", "")),
            # The docs spell it both ways; one spelling is easier to compare against.
            status="Canceled" if status == "Cancelled" else status,
            number_of_records=_int_or_none(item.get("numberOfRecords")),
            file_size=_int_or_none(item.get("fileSize")),
            file_checksum=item.get("fileChecksum"),
            error=item.get("errorMsg"),
            created_at=item.get("createdAt"),
            finished_at=item.get("finishedAt"),
        )


class _Download:
    """What an export download has written so far, hashed as it goes."""

    def __init__(self, part: Path) -> None:
        self.part = part
        self.digest = hashlib.sha256()
        self.written = 0
        self.total: int | None = None  # as the server declared it
        if part.exists():
            with part.open("rb") as partial:
                while chunk := partial.read(CHUNK_BYTES):
                    self.digest.update(chunk)
                    self.written += len(chunk)

    def restart(self) -> None:
        self.part.unlink(missing_ok=True)
        self.digest = hashlib.sha256()
        self.written = 0


class BulkExportClient(MarketoTransport):
    def create_export(
        self,
        obj: ExportObject,
        *,
        filter: Mapping[str, Any],
        fields: Sequence[str] | None = None,
        format: str = "CSV",
    ) -> ExportStatus:
        body: dict[str, Any] = {"format": format, "filter": dict(filter)}
        if fields is not None:
            body["fields"] = list(fields)
        return self._export_result(self._call("POST", _export_path(obj, "create"), json=body))

    def enqueue_export(self, obj: ExportObject, export_id: str) -> ExportStatus:
        """Queue the job; QueueFull when 10 jobs wait, ExportQuotaReached for today's 500 MB."""
        if (resume_at := self.limiter.blocked_until(EXPORT_QUOTA_BLOCK)) is not None:
            raise ExportQuotaReached(EXPORT_QUOTA_BLOCK, "Export daily quota exceeded", resume_at)
        path = _export_path(obj, "enqueue", export_id)
        try:
            envelope = self._call("POST", path, retry_queue_full=False)
        except FatalMarketoError as error:
            if is_already_queued(error.code, error.message) or error.code in _NOT_FOUND:
                # Queued, running or finished already (a retried task, say); the status tells
                # which, or raises ExportNotFound when Marketo does not know the job at all.
                return self.export_status(obj, export_id)
            raise
        return self._export_result(envelope)

    def export_status(self, obj: ExportObject, export_id: str) -> ExportStatus:
        return self._job_call("GET", _export_path(obj, "status", export_id))

    def cancel_export(self, obj: ExportObject, export_id: str) -> ExportStatus:
        return self._job_call("POST", _export_path(obj, "cancel", export_id))

    def _job_call(self, method: str, path: str) -> ExportStatus:
        """A call about one job, whose only input is its id: "invalid" means "unknown"."""
        try:
            return self._export_result(self._call(method, path))
        except FatalMarketoError as error:
            if error.code in _NOT_FOUND:
                raise ExportNotFound(error.code, error.message) from error
            raise

    def download_export(
        self,
        obj: ExportObject,
        export_id: str,
        dest: Path,
        *,
        size: int | None,
        checksum: str | None,
    ) -> Path:
        """Stream the job's file to ``dest``, verified against ``size`` and ``checksum``.

        The body goes to ``dest + ".part"`` chunk by chunk; an interrupted download (in this
        call or an earlier one) goes on from where it stopped with a Range request. A file of
        the wrong size or SHA-256 is removed and DownloadCheckFailed raised.
        """
        if checksum is not None and not checksum.startswith("sha256:"):
            raise ValueError(f"unsupported export checksum {checksum!r}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        download = _Download(dest.with_name(dest.name + ".part"))
        path = _export_path(obj, "file", export_id)
        self._with_retries("GET", path, lambda token: self._fetch_file(path, token, download, size))
        self._verify(download, size, checksum)
        download.part.replace(dest)
        return dest

    def _fetch_file(
        self, path: str, token: str, download: _Download, size: int | None
    ) -> Outcome[bool]:
        """One attempt: append what the server sends to the part file."""
        if size is not None and download.written > size:
            download.restart()
        if size is not None and download.written == size > 0:
            return "", "", True  # an earlier run got it all but did not get to rename it
        # Identity encoding: byte ranges and sizes then refer to the file itself.
        headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
        if download.written:
            headers["Range"] = f"bytes={download.written}-"
        slot = self.limiter.slot()
        with slot:
            self._count_call()
            with self.session.get(
                self.base_url + path, headers=headers, stream=True, timeout=self.timeout
            ) as response:
                if response.status_code == 416:
                    download.restart()  # our partial file is longer than the export
                    return BAD_RESPONSE, "Range not satisfiable; downloading again", None
                if response.status_code == 200:
                    download.restart()
                    download.total = _int_or_none(response.headers.get("Content-Length"))
                elif response.status_code == 206:
                    match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
                    if match is None or int(match[1]) != download.written:
                        download.restart()
                        return BAD_RESPONSE, "Unexpected Content-Range; downloading again", None
                    download.total = int(match[3])
                else:
                    return f"HTTP {response.status_code}", http_message(response), None
                renewed = time.monotonic()
                with download.part.open("ab") as part:
                    try:
                        # read1 hands over whatever has arrived, so a connection that breaks
                        # mid-file loses nothing already received.
                        while chunk := response.raw.read1(CHUNK_BYTES, decode_content=True):
                            part.write(chunk)
                            download.digest.update(chunk)
                            download.written += len(chunk)
                            if time.monotonic() - renewed > self.limiter.lease / 3:
                                slot.renew()
                                renewed = time.monotonic()
                    except urllib3.exceptions.HTTPError as error:
                        return CONNECTION, f"Download interrupted ({type(error).__name__})", None
        return "", "", True

    def _verify(self, download: _Download, size: int | None, checksum: str | None) -> None:
        expected = [n for n in (size, download.total) if n is not None]
        problem = None
        if any(n != download.written for n in expected):
            sizes = " / ".join(f"{n:,}" for n in expected)
            problem = ("size", f"Export file has {download.written:,} bytes, expected {sizes}")
        elif checksum is not None and download.digest.hexdigest() != checksum.split(":", 1)[1]:
            problem = ("checksum", "Export file does not match its SHA-256 checksum")
        if problem is not None:
            download.part.unlink(missing_ok=True)
            raise DownloadCheckFailed(*problem)

    def _export_result(self, envelope: Mapping[str, Any]) -> ExportStatus:
        results = envelope.get("result") or []
        if not results:
            raise ExportNotFound("610", "Marketo returned no export job")
        return ExportStatus.from_result(results[0])


def _export_path(obj: ExportObject, action: str, export_id: str | None = None) -> str:
    if obj not in ("leads", "activities"):
        raise ValueError(f"Marketo has no bulk export of {obj!r}")
    if export_id is None:
        return f"/bulk/v1/{obj}/export/{action}.json"
    return f"/bulk/v1/{obj}/export/{quote(export_id, safe='')}/{action}.json"


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
