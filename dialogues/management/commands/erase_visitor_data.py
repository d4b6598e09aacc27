"""manage.py erase_visitor_data --email X | --visitor KEY"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dialogues import privacy


class Command(BaseCommand):
    help = (
        "Erase what Dynchat holds about one person, found by e-mail (any case) or visitor id: "
        "visitors, conversations and answers, the copy of their Marketo lead; meetings are "
        "anonymised and queued Marketo updates cancelled. Nothing is deleted in Marketo."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--email", help="the person's e-mail address")
        who.add_argument("--visitor", help="the visitor id the widget keeps")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = privacy.erase(
                email=options["email"], visitor_key=options["visitor"], via="command"
            )
        except privacy.NoSubject as error:
            raise CommandError(str(error)) from error
        for name, count in summary.items():
            self.stdout.write(f"{name.replace('_', ' ')}: {count}")
