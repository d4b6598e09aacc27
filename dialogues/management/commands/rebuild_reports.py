"""Recount the report counters from the conversation events still held."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dialogues.counting import rebuild


class Command(BaseCommand):
    help = (
        "Recount the reports' daily counters from the conversation events still held: the days "
        "from --since (by default the first whole day of events) are counted again, the days "
        "before keep their counts. Running it twice changes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="The first UTC day to recount (YYYY-MM-DD).")

    def handle(self, *args: Any, **options: Any) -> None:
        since = None
        if options["since"]:
            try:
                since = date.fromisoformat(options["since"])
            except ValueError:
                raise CommandError("--since takes a date: YYYY-MM-DD.") from None
        done = rebuild(since)
        if done["since"] is None:
            self.stdout.write("No events held: nothing to recount.")
            return
        self.stdout.write(
            f"Recounted {done['events']} events from {done['since']:%Y-%m-%d} (UTC): "
            f"{done['metrics']} dialogue-days, {done['goals']} goal rows, "
            f"{done['pages']} page rows, {done['cards']} card rows."
        )
