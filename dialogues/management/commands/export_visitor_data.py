"""manage.py export_visitor_data --email X | --visitor KEY [--output FILE]"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dialogues import privacy


class Command(BaseCommand):
    help = (
        "Print (or write to --output) everything Dynchat holds about one person as JSON, found by "
        "e-mail (any case) or visitor id. The request is logged without the data."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--email", help="the person's e-mail address")
        who.add_argument("--visitor", help="the visitor id the widget keeps")
        parser.add_argument("--output", help="write the JSON to this file instead of stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            data = privacy.export(
                email=options["email"], visitor_key=options["visitor"], via="command"
            )
        except privacy.NoSubject as error:
            raise CommandError(str(error)) from error
        text = json.dumps(data, indent=2, ensure_ascii=False)
        if options["output"]:
            Path(options["output"]).write_text(text + "\n", encoding="utf-8")
            self.stdout.write(f"Wrote the export to {options['output']}.")
        else:
            self.stdout.write(text)
