"""The 90-day purge: conversation events (the transcripts) older than 90 days are deleted.

The cutoff is the UTC instant exactly 90 days of 24 hours before now — never a local date or wall
time, so neither the server's time zone nor a daylight-saving change moves it. Events go in
keyset batches by id, each batch its own short transaction, so widget requests writing new events
meanwhile never wait for the purge; after each batch it rests as long as the batch took, so the
widget's requests keep most of the database's attention. Everything else stays: conversations
(they remember that a dialogue was shown once), visitors, leads, meetings, the outbox and the
daily counters reports read, which were counted as the events happened.

Two guards make a run refuse rather than delete (outcome ``refused``, 0 rows, an error logged):
the application's clock and the database's differ by more than five minutes (a clock jumped
ahead would otherwise delete everything), or one run would delete more than half of the events
(something is wrong, or the purge has not run for months: an operator decides, with
``override=True``). The override lifts only the second guard; a clock anomaly is always refused.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from dialogues.models import ConversationEvent
from dialogues.report_models import PurgeRun

logger = logging.getLogger("dialogues.retention")

RETENTION = timedelta(days=90)
MAX_CLOCK_SKEW = timedelta(minutes=5)
MAX_SHARE = 0.5  # of the events one run may delete without an override
BATCH = 5_000
BATCH_STATEMENT_TIMEOUT = "30s"  # a batch normally takes well under a second
# After each full batch the purge rests PAUSE times as long as the batch took, leaving the
# database (and the machine) to the widget's requests at least half the time.
PAUSE = 1.0

EVENTS = ConversationEvent._meta.db_table
LABEL = ConversationEvent._meta.label  # the key of PurgeRun.deleted

# The table's name is the model's: nothing here comes from outside.
DELETE_BATCH = f"""
WITH doomed AS (
    SELECT id FROM {EVENTS} WHERE id > %s AND occurred_at < %s ORDER BY id LIMIT %s
), gone AS (
    DELETE FROM {EVENTS} WHERE id IN (SELECT id FROM doomed) RETURNING id
)
SELECT count(*), max(id) FROM gone
"""  # noqa: S608


class Refused(Exception):
    """Why a run must not delete anything."""


def cutoff(now: datetime | None = None) -> datetime:
    """The instant before which events are purged: ``now`` (UTC) less exactly 90 days."""
    moment = timezone.now() if now is None else now
    if timezone.is_naive(moment):
        raise ValueError("the purge needs an aware datetime")
    return moment.astimezone(UTC) - RETENTION


def purge(
    now: datetime | None = None,
    *,
    override: bool = False,
    batch: int = BATCH,
    budget: float | None = None,
    pause: float = PAUSE,
) -> PurgeRun:
    """Delete the events older than 90 days; the PurgeRun says what was deleted or why not.

    ``budget``: seconds after which the run stops between two batches (outcome ``done``, the
    reason saying so); the next run carries on where it stopped. ``pause``: the rest after each
    batch, as a multiple of the time it took.
    """
    if batch < 1:
        raise ValueError("batch must be at least 1")
    moment = timezone.now() if now is None else now
    before = cutoff(moment)
    database_now = database_clock()
    sane = abs(moment - database_now) <= MAX_CLOCK_SKEW
    run = PurgeRun.objects.create(  # a clock gone wrong is not written as the run's time
        started_at=moment if sane else database_now,
        cutoff=before,
        override=override,
        deleted={LABEL: 0},
    )
    try:
        check(moment, database_now, before, override=override)
    except Refused as refused:
        logger.error("The 90-day purge refused to run: %s", refused)
        return finish(run, PurgeRun.Outcome.REFUSED, str(refused), at=run.started_at)
    try:
        stopped_early = delete_in_batches(run, before, batch=batch, budget=budget, pause=pause)
    except BaseException as error:  # a soft time limit too: the run must not stay "running"
        logger.exception("The 90-day purge failed after %s batches", run.batches)
        finish(run, PurgeRun.Outcome.FAILED, f"{type(error).__name__}: {error}")
        raise
    reason = "Stopped at its time budget; the next run continues." if stopped_early else ""
    logger.info(
        "The 90-day purge deleted %s events older than %s in %s batches",
        run.deleted[LABEL],
        before.isoformat(),
        run.batches,
    )
    return finish(run, PurgeRun.Outcome.DONE, reason)


def check(now: datetime, database_now: datetime, before: datetime, *, override: bool) -> None:
    """Raise Refused on a clock anomaly, or when the run would delete over half the events."""
    skew = abs(now - database_now)
    if skew > MAX_CLOCK_SKEW:
        raise Refused(
            f"the application's clock ({now.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC) and the "
            f"database's ({database_now.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC) differ by "
            f"{skew}, more than {MAX_CLOCK_SKEW}; nothing was deleted."
        )
    if override:
        return
    expired = ConversationEvent.objects.filter(occurred_at__lt=before).count()
    if not expired:
        return
    total = ConversationEvent.objects.count()
    if expired > MAX_SHARE * total:
        raise Refused(
            f"{expired} of {total} events are older than 90 days: more than "
            f"{MAX_SHARE:.0%} of the table in one run. Nothing was deleted; if this is expected, "
            "run it with the override (manage.py purge_reporting_data --override)."
        )


def database_clock() -> datetime:
    """The database server's wall clock (not the start of the current transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp()")
        (found,) = cursor.fetchone() or (None,)
    if not isinstance(found, datetime):
        raise TypeError(f"clock_timestamp() returned {found!r}")
    return found


def delete_in_batches(
    run: PurgeRun, before: datetime, *, batch: int, budget: float | None, pause: float
) -> bool:
    """Delete events older than ``before``, ``batch`` at a time in id order, counting them in
    ``run``; True if the budget ran out first."""
    started = time.monotonic()
    after = 0
    while True:
        batch_started = time.monotonic()
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL statement_timeout = '{BATCH_STATEMENT_TIMEOUT}'")
                cursor.execute(DELETE_BATCH, [after, before, batch])
                row = cursor.fetchone() or (0, None)
                deleted, last = int(row[0]), int(row[1] or 0)  # max(id) is NULL when none left
            if deleted:
                run.batches += 1
                run.deleted = {LABEL: run.deleted[LABEL] + deleted}
                run.save(update_fields=["batches", "deleted"])
        if deleted < batch:
            return False
        after = last
        if budget is not None and time.monotonic() - started > budget:
            return True
        time.sleep(pause * (time.monotonic() - batch_started))


def finish(
    run: PurgeRun, outcome: PurgeRun.Outcome, reason: str, *, at: datetime | None = None
) -> PurgeRun:
    run.outcome = outcome
    run.reason = reason
    run.finished_at = timezone.now() if at is None else at
    run.save(update_fields=["outcome", "reason", "finished_at"])
    return run
