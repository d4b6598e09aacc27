"""Marketo sync operations, called by the Marketo page, the tasks and the demo.

A run is driven by ``advance_run``: whichever worker holds the run's lease does the next steps
until the run ends, waits on Marketo or uses up its time budget. ``resume_runs`` (beat) hands
runs whose worker died, or whose daily-quota pause is over, to a worker again.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from sync import engine, incremental, tasks
from sync.client import MarketoClient
from sync.errors import DailyQuotaReached, ExportQuotaReached, MarketoError
from sync.fields import COMPANY_CORE, LEAD_CORE
from sync.limiter import default_limiter
from sync.models import (
    MAX_ATTRIBUTES,
    AttributeObject,
    Phase,
    RunKind,
    RunState,
    SyncedAttribute,
    SyncRun,
)

logger = logging.getLogger("sync")

# A worker holds a run's lease while it works on it and renews it every LEASE / 3; a worker that
# dies lets it lapse, and beat's resume_runs hands the run to another within LEASE + 15 s.
LEASE = timedelta(seconds=30)
LONG_WAIT = 20.0  # a wait longer than this ends the task; beat resumes the run when it is due
DESCRIBE_CACHE_SECONDS = 3600


class SyncRefused(Exception):
    """A sync operation the current state does not allow; the message is for the marketer."""


@dataclass(frozen=True)
class Attribute:
    """A person or company field Marketo describes, offered to the marketer."""

    object: AttributeObject
    name: str
    display_name: str
    data_type: str

    @property
    def key(self) -> str:
        return f"{self.object}:{self.name}"


# Callables ``(object, name) -> names of what uses the attribute``; dialogues register one.
ATTRIBUTE_USERS: list[Callable[[str, str], list[str]]] = []


def describe_attributes(client: MarketoClient | None = None) -> list[Attribute]:
    """Every person and company field Marketo offers over REST (cached for an hour)."""
    cached: list[Attribute] | None = cache.get("sync:describe")
    if cached is not None:
        return cached
    # Someone is waiting on the page: give up after two attempts rather than five.
    client = client or MarketoClient.from_settings(max_attempts=2)
    attributes = []
    for field in client.describe_leads():
        rest = field.get("rest") or {}
        if rest.get("name"):
            attributes.append(
                Attribute(AttributeObject.PERSON, rest["name"], field.get("displayName") or
                          rest["name"], field.get("dataType", "string"))
            )  # fmt: skip
    for field in client.describe_companies():
        attributes.append(
            Attribute(AttributeObject.COMPANY, field["name"], field.get("displayName") or
                      field["name"], field.get("dataType", "string"))
        )  # fmt: skip
    cache.set("sync:describe", attributes, DESCRIBE_CACHE_SECONDS)
    return attributes


def _core(attributes: Sequence[Attribute], object: AttributeObject) -> list[str]:
    core = LEAD_CORE if object == AttributeObject.PERSON else COMPANY_CORE
    offered = {attribute.name for attribute in attributes if attribute.object == object}
    return [name for name in core if name in offered or name == "id"]


def _save_attributes(chosen: Sequence[Attribute]) -> None:
    for attribute in chosen:
        SyncedAttribute.objects.update_or_create(
            object=attribute.object,
            name=attribute.name,
            defaults={"display_name": attribute.display_name, "data_type": attribute.data_type},
        )


def _start(run: SyncRun) -> SyncRun:
    try:
        with transaction.atomic():
            run.save()
    except IntegrityError:
        raise SyncRefused("A sync is already running; wait for it to finish.") from None
    transaction.on_commit(lambda: tasks.advance_run.delay(run.id))
    return run


@transaction.atomic
def start_initial_sync(
    *,
    chosen: Sequence[Attribute],
    offered: Sequence[Attribute],
    leads_since: datetime,
    activities_since: datetime,
) -> SyncRun:
    """Start the one-time initial sync of leads, companies and activities with ``chosen`` fields."""
    if SyncRun.objects.completed_initial():
        raise SyncRefused("The initial sync has already run; add attributes instead.")
    if len(chosen) > MAX_ATTRIBUTES:
        raise SyncRefused(f"Choose at most {MAX_ATTRIBUTES} attributes.")
    SyncedAttribute.objects.all().delete()
    _save_attributes(chosen)
    person = [a.name for a in chosen if a.object == AttributeObject.PERSON]
    company = [a.name for a in chosen if a.object == AttributeObject.COMPANY]
    lead_core = _core(offered, AttributeObject.PERSON)
    company_core = _core(offered, AttributeObject.COMPANY)
    run = SyncRun(
        kind=RunKind.INITIAL,
        leads_since=leads_since,
        activities_since=activities_since,
        lead_fields=lead_core + [name for name in person if name not in lead_core],
        company_fields=company_core + [name for name in company if name not in company_core],
    )
    return _start(run)


@transaction.atomic
def add_attributes(*, chosen: Sequence[Attribute], offered: Sequence[Attribute]) -> SyncRun:
    """Sync more attributes: saved at once, filled in for every mirrored row by a back-fill."""
    initial = SyncRun.objects.completed_initial()
    if initial is None:
        raise SyncRefused("Run the initial sync first.")
    known = {(a.object, a.name) for a in SyncedAttribute.objects.all()}
    new = [a for a in chosen if (a.object, a.name) not in known]
    if not new:
        raise SyncRefused("Those attributes are synced already.")
    if len(known) + len(new) > MAX_ATTRIBUTES:
        raise SyncRefused(f"At most {MAX_ATTRIBUTES} attributes can be synced; remove some first.")
    _save_attributes(new)
    person = [a.name for a in new if a.object == AttributeObject.PERSON]
    company = [a.name for a in new if a.object == AttributeObject.COMPANY]
    run = SyncRun(
        kind=RunKind.BACKFILL,
        leads_since=initial.leads_since,
        lead_fields=["id", *person] if person else [],
        company_fields=_core(offered, AttributeObject.COMPANY) + company if company else [],
    )
    return _start(run)


def attribute_users(attribute: SyncedAttribute) -> list[str]:
    return [user for check in ATTRIBUTE_USERS for user in check(attribute.object, attribute.name)]


@transaction.atomic
def remove_attribute(*, attribute: SyncedAttribute) -> None:
    """Stop syncing an attribute, unless a dialogue uses it."""
    if users := attribute_users(attribute):
        raise SyncRefused(f"“{attribute.display_name}” is used by {', '.join(users)}.")
    attribute.delete()


def start_incremental_sync() -> SyncRun | None:
    """Start an incremental run when the initial sync is done and none is running."""
    initial = SyncRun.objects.completed_initial()
    if initial is None or SyncRun.objects.active().filter(kind=RunKind.INCREMENTAL).exists():
        return None
    person = SyncedAttribute.objects.names(AttributeObject.PERSON)
    company = SyncedAttribute.objects.names(AttributeObject.COMPANY)
    lead_core = [name for name in initial.lead_fields if name in LEAD_CORE]
    company_core = [name for name in initial.company_fields if name in COMPANY_CORE]
    run = SyncRun(
        kind=RunKind.INCREMENTAL,
        phase=Phase.CHANGES,
        lead_fields=lead_core + [n for n in person if n not in lead_core],
        company_fields=company_core + [n for n in company if n not in company_core],
    )
    try:
        with transaction.atomic():
            return _start(run)
    except SyncRefused:
        return None


def _claim(run_id: int, owner: str) -> bool:
    now = timezone.now()
    return bool(
        SyncRun.objects.due()
        .filter(id=run_id, state=RunState.RUNNING)
        .update(lease_owner=owner, lease_until=now + LEASE)
    )


class LeaseKeeper(threading.Thread):
    """Renews a run's lease in the background, so long steps (a big file) keep it."""

    def __init__(self, run_id: int, owner: str) -> None:
        super().__init__(name=f"lease-{run_id}", daemon=True)
        self.run_id, self.owner, self.stopped = run_id, owner, threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(LEASE.total_seconds() / 3):
                SyncRun.objects.filter(id=self.run_id, lease_owner=self.owner).update(
                    lease_until=timezone.now() + LEASE
                )
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=LEASE.total_seconds())


def advance_run(
    run_id: int, *, budget: float = 240.0, client: MarketoClient | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:  # fmt: skip
    """Work on a run for up to ``budget`` seconds; True when it should continue at once."""
    owner = uuid.uuid4().hex
    if not _claim(run_id, owner):
        return False
    client = client or MarketoClient.from_settings()
    deadline = time.monotonic() + budget
    again = False
    keeper = LeaseKeeper(run_id, owner)
    keeper.start()
    try:
        while True:
            run = SyncRun.objects.get(id=run_id)
            if run.state != RunState.RUNNING or run.lease_owner != owner:
                break
            if run.kind == RunKind.INCREMENTAL:
                wait = incremental.step_changes(run, client)
                if wait is None:
                    run.complete()
            else:
                wait = engine.step(run, client)
            SyncRun.objects.filter(id=run_id, lease_owner=owner).update(
                lease_until=timezone.now() + LEASE
            )
            if wait is None or wait > LONG_WAIT:
                break
            if time.monotonic() + wait > deadline:
                again = True
                break
            if wait:
                sleep(wait)
    except (DailyQuotaReached, ExportQuotaReached) as quota:
        what = "daily API quota" if isinstance(quota, DailyQuotaReached) else "bulk export quota"
        _pause(run_id, until=quota.resume_at, reason=f"Marketo {what}")
    except (MarketoError, engine.SyncFailed) as error:
        _fail(run_id, str(error))
    finally:
        keeper.stop()
        SyncRun.objects.filter(id=run_id, lease_owner=owner).update(lease_until=None)
    return again


def _pause(run_id: int, *, until: datetime, reason: str) -> None:
    logger.warning("sync run %s paused until %s: %s", run_id, until.isoformat(), reason)
    SyncRun.objects.filter(id=run_id).update(
        state=RunState.PAUSED, paused_until=until, pause_reason=reason, lease_until=None
    )


def _fail(run_id: int, message: str) -> None:
    logger.error("sync run %s failed: %s", run_id, message)
    run = SyncRun.objects.get(id=run_id)
    run.state, run.errors, run.last_error = RunState.FAILED, run.errors + 1, message
    run.finished_at = timezone.now()
    run.save(update_fields=["state", "errors", "last_error", "finished_at", "updated_at"])


def retry_run(*, run: SyncRun) -> None:
    """Go on with a failed run from where it stopped (its jobs and watermarks are kept)."""
    if run.state != RunState.FAILED:
        raise SyncRefused("Only a failed sync can be retried.")
    try:
        with transaction.atomic():
            run.state, run.finished_at = RunState.RUNNING, None
            run.save(update_fields=["state", "finished_at", "updated_at"])
    except IntegrityError:
        raise SyncRefused("Another sync of this kind is running.") from None
    transaction.on_commit(lambda: tasks.advance_run.delay(run.id))


def resume_runs() -> list[int]:
    """Hand due runs to a worker: unleased running ones and paused ones whose time has come."""
    resumed = []
    for run in SyncRun.objects.due():
        if run.state == RunState.PAUSED:
            default_limiter().clear_block()
            SyncRun.objects.filter(id=run.id, state=RunState.PAUSED).update(
                state=RunState.RUNNING, paused_until=None, pause_reason=""
            )
            logger.info("sync run %s resumes after its pause", run.id)
        tasks.advance_run.delay(run.id)
        resumed.append(run.id)
    return resumed
