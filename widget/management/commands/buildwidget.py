from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from widget.build import BUNDLES, OUTPUT, build, gzip_size


class Command(BaseCommand):
    help = "Minify the widget sources in widget/js/ into static/widget/ and check their budgets."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--check", action="store_true", help="Fail if a built file is stale.")

    def handle(self, *args: Any, check: bool, **options: Any) -> None:
        stale = []
        for bundle in BUNDLES:
            built = build(bundle)
            target = OUTPUT / bundle.output
            size = gzip_size(built)
            if check:
                if not target.exists() or target.read_text() != built:
                    stale.append(bundle.output)
            else:
                OUTPUT.mkdir(parents=True, exist_ok=True)
                target.write_text(built)
            verdict = "ok" if size <= bundle.budget_gzip_bytes else "OVER BUDGET"
            self.stdout.write(
                f"{bundle.output}: {len(built)} B, {size} B gzip "
                f"(budget {bundle.budget_gzip_bytes} B) {verdict}"
            )
            if size > bundle.budget_gzip_bytes:
                raise CommandError(f"{bundle.output} is over its gzip budget")
        if stale:
            raise CommandError(f"stale: {', '.join(stale)}; run `python3 manage.py buildwidget`")
