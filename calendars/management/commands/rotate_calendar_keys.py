"""manage.py rotate_calendar_keys: re-seal stored calendar tokens under the newest key.

Deploy with the new key first in CALENDAR_TOKEN_KEYS and the old one after it, run this, then
drop the old key. Rows are re-sealed in batches, each row locked while it is re-sealed, so the
running service keeps reading and refreshing tokens meanwhile.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from calendars.crypto import newest_version
from calendars.tokens import reseal


class Command(BaseCommand):
    help = "Re-seal every calendar token not yet under the newest CALENDAR_TOKEN_KEYS key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=500, help="Rows per transaction.")

    def handle(self, *args: Any, batch: int, **options: Any) -> None:
        if batch < 1:
            self.stderr.write("--batch must be at least 1")
            return
        resealed = skipped = 0
        for done, missing in reseal(batch):
            resealed += done
            skipped += missing
            self.stdout.write(f"re-sealed {resealed} so far")
        self.stdout.write(
            self.style.SUCCESS(f"{resealed} connections re-sealed under key {newest_version()}.")
        )
        if skipped:
            self.stdout.write(
                self.style.WARNING(
                    f"{skipped} connections were sealed with a key that is not configured; "
                    "their agents must reconnect."
                )
            )
