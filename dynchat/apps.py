from __future__ import annotations

from django.apps import AppConfig


class DynchatConfig(AppConfig):
    name = "dynchat"
    verbose_name = "Dynchat"
