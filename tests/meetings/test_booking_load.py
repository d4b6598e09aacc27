"""B-1: 200 visitors book the same slot with one agent at once, over real HTTP.

gunicorn (4 worker processes, production's gthread configuration) serves the test database on
127.0.0.1 with the test settings (Celery eager: the calendar event is created in the request that
booked), its calendar settings pointing at this run's calendar sandbox, and the booking rate
limit raised (every visitor here comes from 127.0.0.1). 200 visitors wait at a meeting card with
one agent; 4 client processes of 50 threads each send their booking of the same 30-minute slot,
released together. Exactly one books it; the 199 others are told it is taken. Five iterations, a
new slot each. With ``-s`` each iteration prints its figures.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from dynchat.embedded import free_port
from meetings.models import Meeting, MeetingStatus
from routing.assignment import offer_slots
from sync.models import OutboxKind, OutboxMessage
from tests.calendars.factories import connected_agent
from tests.widget.booking import iso, many_at_meeting_card, published_meeting
from tests.worker import database_url_of_this_test, die_with_the_test_process

ROOT = Path(settings.BASE_DIR)
WORKERS = 4
CLIENT_PROCESSES = 4
THREADS = 50
VISITORS = CLIENT_PROCESSES * THREADS
ITERATIONS = 5
REQUEST_TIMEOUT = 30

# One client process: THREADS threads, each with one booking to send. They connect once all are
# ready and the test says "go" on stdin (the barrier across processes); each prints its outcome.
CLIENT = r"""
import http.client, json, sys, threading
job = json.loads(sys.stdin.readline())
ready = threading.Barrier(len(job["bookings"]) + 1)
go = threading.Event()
results = []
def book(item):
    ready.wait()
    go.wait()
    try:
        connection = http.client.HTTPConnection(job["host"], job["port"], timeout=job["timeout"])
        connection.request("POST", item["path"], body=json.dumps(item["body"]), headers={
            "Content-Type": "application/json", "Authorization": "Bearer " + item["token"],
            "Idempotency-Key": item["key"]})
        response = connection.getresponse()
        data = response.read()
        try:
            code = json.loads(data).get("error", {}).get("code", "")
        except ValueError:
            code = "not-json"
        results.append([response.status, code])
    except TimeoutError:
        results.append([0, "timeout"])
    except OSError as error:
        results.append([-1, type(error).__name__])
threads = [threading.Thread(target=book, args=(item,)) for item in job["bookings"]]
for thread in threads:
    thread.start()
ready.wait()
print("ready", flush=True)
sys.stdin.readline()
go.set()
for thread in threads:
    thread.join()
print(json.dumps(results), flush=True)
"""


def _environment(sandbox: Any, port: int) -> dict[str, str]:
    drop = ("MARKETO_", "RATELIMITS", "DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    env = {name: value for name, value in os.environ.items() if not name.startswith(drop)}
    overrides = {name: str(value) for name, value in sandbox.settings_overrides().items()}
    return {
        **env,
        **overrides,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url_of_this_test(),
        "REDIS_URL": settings.REDIS_URL,
        "RATELIMITS": "widget-booking=100000/m,widget-slots=100000/m",
        "BIND": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(WORKERS),
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def gunicorn(calendar_sandbox: Any, transactional_db: None, tmp_path: Path) -> Iterator[str]:
    """gunicorn on a free loopback port, serving this test's database; its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = (tmp_path / "gunicorn.log").open("wb")
    command = [sys.executable, "-m", "gunicorn", "-c", "python:dynchat.gunicorn_config"]
    process = subprocess.Popen(
        [*command, "--access-logfile", "/dev/null", "dynchat.wsgi"],
        env=_environment(calendar_sandbox, port),
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_the_test_process,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                url = f"{base}/api/widget/v1/openapi.json"
                with urllib.request.urlopen(url, timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp_path / "gunicorn.log").read_text(errors="replace"))
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        log.close()


def _clients(port: int, bookings: list[dict[str, Any]]) -> tuple[list[list[Any]], float]:
    """Send ``bookings`` from CLIENT_PROCESSES processes at once; (status, code) each, and the
    wall time from release to the last answer."""
    share = len(bookings) // CLIENT_PROCESSES
    processes = []
    for number in range(CLIENT_PROCESSES):
        job = {
            "host": "127.0.0.1",
            "port": port,
            "timeout": REQUEST_TIMEOUT,
            "bookings": bookings[number * share : (number + 1) * share],
        }
        process = subprocess.Popen(
            [sys.executable, "-c", CLIENT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=die_with_the_test_process,
        )
        assert process.stdin is not None
        process.stdin.write(json.dumps(job) + "\n")
        process.stdin.flush()
        processes.append(process)
    for process in processes:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
    started = time.monotonic()
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    results: list[list[Any]] = []
    for process in processes:
        out, _ = process.communicate(timeout=REQUEST_TIMEOUT + 30)
        results += json.loads(out.strip().splitlines()[-1])
    return results, time.monotonic() - started


@pytest.mark.timeout(300)
@pytest.mark.django_db(transaction=True)
def test_two_hundred_visitors_booking_one_slot_get_one_meeting(
    gunicorn: str, calendar_sandbox: Any, calendar_settings: Any, site: Any
) -> None:
    """B-1: one 201, 199 409s (slot_taken), no 5xx, no timeouts; 1 meeting, 1 calendar event,
    1 Marketo activity; five times over."""
    agent = connected_agent(
        calendar_sandbox, "b1-agent@example.com", name="Alex", notice_minutes=60
    )
    version = published_meeting(site, agent.pk)
    port = int(gunicorn.rsplit(":", 1)[1])
    for iteration in range(1, ITERATIONS + 1):
        slot = offer_slots(agent_id=agent.pk).starts[0]
        inserts = calendar_sandbox.calls("google.events.insert")
        activities = OutboxMessage.objects.filter(
            kind=OutboxKind.ACTIVITY, payload__activity="meeting"
        )
        activities_before = activities.count()
        conversations = many_at_meeting_card(version, f"b1i{iteration}", VISITORS)
        body = {"card": "meet", "start": iso(slot), "duration": 30, "time_zone": "Europe/Paris"}
        bookings = [
            {
                "path": f"/api/widget/v1/conversations/{conversation.pk}/bookings",
                "token": conversation.token,
                "key": f"b1-key-{iteration}-{conversation.pk:08d}",
                "body": body,
            }
            for conversation in conversations
        ]
        results, wall = _clients(port, bookings)
        statuses = Counter(status for status, _ in results)
        codes = Counter(code for status, code in results if status == 409)
        answers = Counter(f"{status} {code}".strip() for status, code in results)
        failures = sum(count for status, count in statuses.items() if status >= 500)
        print(
            f"B-1 iteration {iteration}: {len(results)} requests, {statuses[201]} × 201, "
            f"{statuses[409]} × 409, {failures} × 5xx, wall {wall:.1f} s"
        )
        assert len(results) == VISITORS
        assert statuses == {201: 1, 409: VISITORS - 1}, answers
        assert codes == {"slot_taken": VISITORS - 1}
        booked = Meeting.objects.filter(starts_at=slot, status=MeetingStatus.UPCOMING)
        assert booked.count() == 1
        assert calendar_sandbox.calls("google.events.insert") - inserts == 1
        assert activities.count() - activities_before == 1
