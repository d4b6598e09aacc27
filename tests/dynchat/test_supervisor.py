"""The process supervisor behind `manage.py run`: whatever it started, it stops."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import psutil
import pytest

from tests.processes import alive, descendants, wait_gone

pytestmark = pytest.mark.slow

SUPERVISED = textwrap.dedent(
    """
    import sys
    from dynchat.supervisor import Supervisor

    with Supervisor() as supervisor:
        supervisor.start("sleeper", ["sleep", "600"])
        # Ignores SIGTERM: must be killed after its grace period.
        supervisor.start(
            "stubborn",
            [sys.executable, "-c",
             "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"],
            grace=1,
        )
        # Leaves grandchildren behind in its process group.
        supervisor.start("parent", ["sh", "-c", "sleep 600 & sleep 600 & wait"])
        {extra}
        print("started", flush=True)
        print(supervisor.wait().exit_reason, flush=True)
    print("stopped", flush=True)
    """
)


def descendants_once_started(pid: int, at_least: int, timeout: float = 15) -> list[psutil.Process]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = descendants(pid)
        if len(found) >= at_least:
            return found
        time.sleep(0.1)
    raise AssertionError(f"expected {at_least} descendants, saw {len(found)}")


@pytest.fixture
def supervisor_process() -> Iterator[subprocess.Popen[str]]:
    process = start_supervisor()
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def start_supervisor(extra: str = "") -> subprocess.Popen[str]:
    code = SUPERVISED.replace("{extra}", extra)
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "started"
    return process


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_stops_every_child_and_grandchild(
    supervisor_process: subprocess.Popen[str], signum: int
) -> None:
    processes = descendants_once_started(supervisor_process.pid, at_least=5)
    os.kill(supervisor_process.pid, signum)
    assert supervisor_process.wait(timeout=20) == 0
    assert wait_gone(processes) == []
    output = supervisor_process.stdout.read() if supervisor_process.stdout else ""
    assert output.rstrip().endswith("stopped")


def test_a_second_ctrl_c_while_stopping_orphans_nothing(
    supervisor_process: subprocess.Popen[str],
) -> None:
    processes = descendants_once_started(supervisor_process.pid, at_least=5)
    os.kill(supervisor_process.pid, signal.SIGINT)
    time.sleep(0.2)
    os.kill(supervisor_process.pid, signal.SIGINT)
    supervisor_process.wait(timeout=20)
    assert wait_gone(processes) == []


def test_a_child_that_dies_stops_the_rest() -> None:
    process = start_supervisor(extra='supervisor.start("short", ["sh", "-c", "sleep 1; exit 3"])')
    try:
        processes = descendants_once_started(process.pid, at_least=5)
        assert process.wait(timeout=30) == 0
        output = process.stdout.read() if process.stdout else ""
        assert "short exited with status 3" in output
        assert wait_gone(processes) == []
    finally:
        process.kill()


@pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="parent-death signal is Linux only"
)
def test_children_die_with_a_killed_supervisor(supervisor_process: subprocess.Popen[str]) -> None:
    processes = descendants_once_started(supervisor_process.pid, at_least=5)
    children = psutil.Process(supervisor_process.pid).children()
    supervisor_process.kill()
    supervisor_process.wait()
    assert wait_gone(children) == []
    # Grandchildren of a SIGKILLed supervisor are its children's business; here sh's sleeps are
    # orphaned only until their own parent's death is noticed, so clean them up.
    for leftover in processes:
        if alive(leftover):
            leftover.kill()


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can start a child as another user")
def test_a_child_run_as_another_user_gets_that_users_groups_only() -> None:
    """As root, user= alone would leave the child in group root: it must take nobody's groups."""
    script = (
        "import subprocess; from dynchat.supervisor import run_as; "
        "print(subprocess.run(['sh', '-c', 'id -u; id -G'], capture_output=True, text=True, "
        "**run_as('nobody')).stdout)"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    nobody = pwd.getpwnam("nobody")
    assert output.split() == [str(nobody.pw_uid), str(nobody.pw_gid)]
