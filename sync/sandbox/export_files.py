"""Writing bulk export files: CSV/TSV/SSV streamed to disk in chunks while hashing.

A file is written from a snapshot of the instance taken when its job starts processing, so
changes made meanwhile never tear a file. Empty values are the literal ``null``; the activity
``attributes`` column is a JSON object (the csv module doubles its quotes).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import io
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from sync.sandbox.activities import Activity
from sync.sandbox.activity_gen import ActivityGenerator
from sync.sandbox.leads import LeadStore
from sync.sandbox.world import World

DELIMITERS = {"CSV": ",", "TSV": "\t", "SSV": ";"}
ACTIVITY_COLUMNS = (
    "marketoGUID",
    "leadId",
    "activityDate",
    "activityTypeId",
    "campaignId",
    "primaryAttributeValueId",
    "primaryAttributeValue",
    "attributes",
    "actionResult",
)
DEFAULT_ACTIVITY_FIELDS = ACTIVITY_COLUMNS[:8]
CHUNK = 4000


class Cancelled(Exception):
    pass


@dataclass(frozen=True)
class Spec:
    """What one export job writes."""

    object: str  # "leads" | "activities"
    format: str
    fields: tuple[str, ...]
    headers: tuple[str, ...]
    filter: str  # "createdAt" | "updatedAt"
    start: float
    end: float
    type_ids: frozenset[int] | None = None


@dataclass(frozen=True)
class Written:
    records: int
    size: int
    checksum: str


@dataclass
class Snapshot:
    leads: LeadStore
    activities: ActivityGenerator
    base_activities: range
    added_activities: list[Activity]


def snapshot(world: World, spec: Spec) -> Snapshot:
    """The data a job exports, copied as it is now (call with the world lock held)."""
    leads = copy.copy(world.leads)
    leads.overrides, leads.added = dict(world.leads.overrides), dict(world.leads.added)
    leads.created_at, leads.updated_at = dict(leads.created_at), dict(leads.updated_at)
    companies = copy.copy(world.companies)
    companies.overrides, companies.added = dict(companies.overrides), dict(companies.added)
    companies.by_external = dict(companies.by_external)
    leads.companies = companies
    stream = world.stream
    if spec.object == "activities":
        base = stream.base_ids_between(spec.start, spec.end)
        added = sorted(stream.added_between(spec.start, spec.end), key=lambda a: a.id)
    else:
        base, added = range(0), []
    return Snapshot(leads, stream.generator, base, added)


def cell(value: Any) -> str:
    if value is None or value == "":
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


class _Sink:
    """Encodes text chunks, hashes them and writes them to the file."""

    def __init__(self, file: io.BufferedWriter, cancel: threading.Event) -> None:
        self.file, self.cancel = file, cancel
        self.hash = hashlib.sha256()
        self.size = 0
        self.buffer = io.StringIO()

    def flush(self) -> None:
        if self.cancel.is_set():
            raise Cancelled
        data = self.buffer.getvalue().encode()
        self.buffer.seek(0)
        self.buffer.truncate()
        self.hash.update(data)
        self.file.write(data)
        self.size += len(data)


def write(path: Path, spec: Spec, data: Snapshot, cancel: threading.Event) -> Written:
    with path.open("wb") as file:
        sink = _Sink(file, cancel)
        writer = csv.writer(sink.buffer, delimiter=DELIMITERS[spec.format], lineterminator="\n")
        writer.writerow(spec.headers)
        if spec.object == "leads":
            records = _write_leads(writer, sink, spec, data)
        else:
            records = _write_activities(writer, sink, spec, data)
        sink.flush()
    return Written(records, sink.size, "sha256:" + sink.hash.hexdigest())


def _lead_ids(spec: Spec, leads: LeadStore) -> Iterable[int]:
    if spec.filter == "createdAt":
        return leads.created_between(spec.start, spec.end)
    return leads.updated_between(spec.start, spec.end)


def _write_leads(writer: Any, sink: _Sink, spec: Spec, data: Snapshot) -> int:
    records, fields, get = 0, spec.fields, data.leads.get
    rows: list[list[str]] = []
    for lead_id in _lead_ids(spec, data.leads):
        lead = get(lead_id)
        if lead is None:
            continue
        rows.append([cell(lead.get(name)) for name in fields])
        if len(rows) >= CHUNK // 4:
            writer.writerows(rows)
            records += len(rows)
            rows.clear()
            sink.flush()
    writer.writerows(rows)
    return records + len(rows)


def _chunks(ids: range) -> Iterator[range]:
    for start in range(ids.start, ids.stop, CHUNK):
        yield range(start, min(start + CHUNK, ids.stop))


def _write_activities(writer: Any, sink: _Sink, spec: Spec, data: Snapshot) -> int:
    indexes = [ACTIVITY_COLUMNS.index(name) for name in spec.fields]
    project = itemgetter(*indexes)
    records = 0
    for ids in _chunks(data.base_activities):
        rows = data.activities.csv_rows(ids, spec.type_ids)
        if len(indexes) == 1:
            writer.writerows((project(row),) for row in rows)
        else:
            writer.writerows(map(project, rows))
        records += len(rows)
        sink.flush()
    added: Sequence[Activity] = [
        a for a in data.added_activities if spec.type_ids is None or a.type_id in spec.type_ids
    ]
    for activity in added:
        row = activity.csv_row()
        writer.writerow([row[i] for i in indexes])
    return records + len(added)
