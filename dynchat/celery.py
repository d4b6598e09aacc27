"""The Celery app. Its settings are the CELERY_* names in dynchat/settings.py."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dynchat.settings")

app = Celery("dynchat")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def report_in(**kwargs: Any) -> None:
    """A worker that just started reports in at once instead of at beat's first tick."""
    app.send_task("dynchat.record_heartbeat")
