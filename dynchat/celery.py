"""The Celery app. Its settings are the CELERY_* names in dynchat/settings.py."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dynchat.settings")

app = Celery("dynchat")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
