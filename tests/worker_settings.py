"""Settings of the Celery workers that reliability tests start (tests/worker.py).

The test settings, with tasks run by the worker instead of eagerly, and crash recovery sized for
tests: a lost worker's messages come back after 30 s instead of an hour (TESTPLAN C-2).
"""

from __future__ import annotations

from tests.settings import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": 30,
    # Live workers look for a lost worker's messages every 2 s; kombu's default is 100 s.
    "unacked_restore_interval": 2,
    "unacked_restore_throttle": 1,
    # A worker killed while restoring holds the restore lock this long (kombu's default: 5 min).
    "unacked_mutex_expire": 10,
}
CELERY_TASK_TIME_LIMIT = 10
CELERY_TASK_SOFT_TIME_LIMIT = 8
# Tests steer workers with signals; no worker needs a remote-control queue.
CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
