"""manage.py purge_reporting_data: run the 90-day purge now, and say what it did.

The same purge as the daily beat job (dialogues/retention.py). ``--override`` lets one run delete
more than half of the events (after a long pause of the job, say); a clock anomaly is refused
whatever the flags.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dialogues import retention
from dialogues.report_models import PurgeRun


class Command(BaseCommand):
    help = "Delete conversation events older than 90 days, in batches."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--override",
            action="store_true",
            help="Delete even when that is more than half of the events.",
        )
        parser.add_argument(
            "--batch", type=int, default=retention.BATCH, help="Rows per transaction."
        )

    def handle(self, *args: Any, override: bool, batch: int, **options: Any) -> None:
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        run = retention.purge(override=override, batch=batch)
        if run.outcome == PurgeRun.Outcome.REFUSED:
            raise CommandError(f"Refused: {run.reason}")
        deleted = run.deleted.get(retention.LABEL, 0)
        before = retention.cutoff(run.started_at)
        self.stdout.write(
            self.style.SUCCESS(
                f"Deleted {deleted} conversation events older than "
                f"{before:%Y-%m-%d %H:%M:%S} UTC in {run.batches} batches of at most "
                f"{batch}."
            )
        )
        if run.reason:
            self.stdout.write(run.reason)
