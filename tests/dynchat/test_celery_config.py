"""C-0: the Celery reliability settings, and no delay that could outlive the visibility timeout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from celery import Task
from django.conf import settings

from dynchat.celery import app

OUR_APPS = ("dynchat", "dialogues", "calendars", "meetings", "routing", "sync", "widget")


def our_tasks() -> list[Task]:  # type: ignore[type-arg]
    app.loader.import_default_modules()
    return [task for name, task in app.tasks.items() if name.split(".")[0] in OUR_APPS]


def visibility_timeout() -> int:
    return int(app.conf.broker_transport_options["visibility_timeout"])


def test_the_reliability_settings_are_on() -> None:
    """C-0: acks late, reject on worker loss, prefetch 1, soft shutdown, retry on start-up."""
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is True
    assert conf.worker_soft_shutdown_timeout >= 10
    assert conf.broker_connection_retry_on_startup is True
    assert conf.task_time_limit
    assert conf.task_soft_time_limit
    assert conf.task_soft_time_limit < conf.task_time_limit
    # The crash-safe Redis transport (a message is never between the queue and "unacked").
    assert conf.broker_transport == "dynchat.broker:Transport"


def test_there_are_tasks_to_check() -> None:
    assert "dynchat.record_heartbeat" in {task.name for task in our_tasks()}


@pytest.mark.parametrize("task", our_tasks(), ids=lambda task: task.name)
def test_every_task_sets_its_own_time_limits(task: Task) -> None:  # type: ignore[type-arg]
    assert task.time_limit is not None, f"{task.name} needs time_limit="
    assert task.soft_time_limit is not None, f"{task.name} needs soft_time_limit="
    assert task.soft_time_limit < task.time_limit


@pytest.mark.parametrize("task", our_tasks(), ids=lambda task: task.name)
def test_every_task_has_an_explicit_name_in_its_app(task: Task) -> None:  # type: ignore[type-arg]
    module = task.run.__module__.split(".")[0]
    assert task.name.startswith(f"{module}."), f"{task.name} should be named {module}.<verb_noun>"


def test_the_visibility_timeout_is_twice_the_longest_task() -> None:
    """C-0: visibility timeout at least twice the longest task time limit."""
    longest = max(
        [app.conf.task_time_limit, *(task.time_limit for task in our_tasks() if task.time_limit)]
    )
    assert visibility_timeout() >= 2 * longest


DELAY = re.compile(r"\b(countdown|eta)\s*=\s*([^,)\n]+)")


def test_no_countdown_or_eta_comes_near_the_visibility_timeout() -> None:
    """C-0 grep test. Long delays belong in database-scheduled jobs run by beat, not the broker."""
    limit = visibility_timeout() / 2
    offenders = []
    for app_name in OUR_APPS:
        for source in Path(settings.BASE_DIR, app_name).rglob("*.py"):
            for match in DELAY.finditer(source.read_text()):
                value = match.group(2).strip()
                if not value.isdigit() or int(value) > limit:
                    offenders.append(f"{source.name}: {match.group(0)}")
    assert offenders == [], f"use a literal countdown of at most {limit:.0f} s"


def test_beat_runs_the_heartbeat() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE["heartbeat"]
    assert schedule["task"] == "dynchat.record_heartbeat"
    assert schedule["schedule"] == float(settings.HEARTBEAT_SECONDS)
