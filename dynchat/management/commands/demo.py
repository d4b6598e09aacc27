from __future__ import annotations

import json
import secrets
from importlib import import_module
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.utils.module_loading import module_has_submodule

from dynchat.demo import DemoLogins, load_demo
from dynchat.keyfile import write_private
from dynchat.origins import normalize_origin


def read_or_create_logins(path: Path) -> DemoLogins:
    try:
        return DemoLogins(**json.loads(path.read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        pass
    logins = DemoLogins(secrets.token_urlsafe(9), secrets.token_urlsafe(9))
    write_private(path, json.dumps(logins.__dict__))
    return logins


class Command(BaseCommand):
    help = (
        "Create or refresh the demo data (a marketer, an agent, a site, and what each app adds in "
        "its demo.py, such as the initial Marketo sync) and print it as JSON. "
        "The demo accounts' passwords are (re)set to those in --logins-file."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host-origin", required=True, type=normalize_origin)
        parser.add_argument("--logins-file", required=True, type=Path)

    def handle(self, *args: Any, host_origin: str, logins_file: Path, **options: Any) -> None:
        result = load_demo(host_origin=host_origin, logins=read_or_create_logins(logins_file))
        # Every other app may add its own demo data in <app>/demo.py (its load_demo()).
        for app in apps.get_app_configs():
            if app.name != "dynchat" and module_has_submodule(app.module, "demo"):
                result.update(import_module(f"{app.name}.demo").load_demo())
        self.stdout.write(json.dumps(result))
