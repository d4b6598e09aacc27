"""Rotating the calendar keys: re-sealing every row while the service keeps using the tokens."""

from __future__ import annotations

import base64
import os
import random
import threading
from datetime import UTC, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection as db_connection

from calendars import tokens
from calendars.crypto import seal, unseal
from calendars.models import CalendarAudit, CalendarConnection, Provider
from dynchat.models import Role, User

CREDENTIALS = 10_000
REFRESHING = 40  # real sandbox grants whose access token has run out: reads refresh them
READERS = 8


def new_key(version: str) -> str:
    return f"{version}:" + base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


def store(
    count: int, sandbox: Any = None, refreshing: int = 0, prefix: str = "r"
) -> dict[int, tuple[str | None, str | None]]:
    """``count`` connections under the current newest key; returns id → (access, refresh)
    with access None for the ``refreshing`` ones (their token changes when refreshed)."""
    now = datetime.now(UTC)
    agents = User.objects.bulk_create(
        User(email=f"{prefix}{i}@example.com", password="!", role=Role.AGENT) for i in range(count)
    )
    rows: list[CalendarConnection] = []
    for i, agent in enumerate(agents):
        if i < refreshing:
            issued = sandbox.issue_tokens("google", agent.email)
            access, refresh, expires = issued["access_token"], issued["refresh_token"], now
        else:
            access, refresh, expires = f"ya29.a{i}", f"1//r{i}", now + timedelta(hours=1)
        sealed_access, version = seal(access)
        sealed_refresh, _ = seal(refresh)
        rows.append(
            CalendarConnection(
                agent=agent,
                provider=Provider.GOOGLE,
                account_email=agent.email,
                sealed_access_token=sealed_access,
                sealed_refresh_token=sealed_refresh,
                access_expires_at=expires - timedelta(minutes=5) if i < refreshing else expires,
                key_version=version,
            )
        )
    created = CalendarConnection.objects.bulk_create(rows)
    return {
        row.id: (None if i < refreshing else f"ya29.a{i}", f"1//r{i}" if i >= refreshing else None)
        for i, row in enumerate(created)
    }


@pytest.mark.django_db(transaction=True)
def test_keys_rotate_while_tokens_are_read_and_refreshed(
    calendar_sandbox: Any, calendar_settings: Any, settings: Any
) -> None:
    """O-3: 10,000 credentials under K1; deploy [K2, K1]; rotate in batches of 500 while 8
    threads read and refresh: every read succeeds, afterwards every row is under K2, and with
    [K2] alone every row still opens."""
    k1, k2 = new_key("k1"), new_key("k2")
    settings.CALENDAR_TOKEN_KEYS = [k1]
    expected = store(CREDENTIALS, calendar_sandbox, REFRESHING)
    ids = list(expected)
    settings.CALENDAR_TOKEN_KEYS = [k2, k1]

    stop = threading.Event()
    reads: list[int] = []
    failures: list[str] = []

    def reader(seed: int) -> None:
        pick = random.Random(seed)  # noqa: S311 (which rows to read, not a secret)
        done = 0
        try:
            while not stop.is_set() or done < 25:
                connection_id = (
                    ids[pick.randrange(REFRESHING * 2)] if done % 3 else pick.choice(ids)
                )
                token = tokens.access_token(connection_id)
                want = expected[connection_id][0]
                if not token or (want is not None and token != want):
                    failures.append(f"connection {connection_id}: wrong token")
                done += 1
        except Exception as error:  # every read must succeed; collected and asserted below
            failures.append(f"{type(error).__name__}: {error}")
        finally:
            reads.append(done)
            db_connection.close()

    threads = [threading.Thread(target=reader, args=(seed,)) for seed in range(READERS)]
    for thread in threads:
        thread.start()
    out = StringIO()
    try:
        call_command("rotate_calendar_keys", "--batch", "500", stdout=out)
    finally:
        stop.set()
        for thread in threads:
            thread.join()

    assert failures == []
    assert len(reads) == READERS
    assert all(count >= 25 for count in reads)
    assert calendar_sandbox.calls("google.token") >= 1  # refreshes happened meanwhile
    assert CalendarConnection.objects.count() == CREDENTIALS
    assert CalendarConnection.objects.filter(key_version="k2").count() == CREDENTIALS
    assert "under key k2" in out.getvalue()

    settings.CALENDAR_TOKEN_KEYS = [k2]
    rows = CalendarConnection.objects.values_list(
        "id", "sealed_access_token", "sealed_refresh_token", "key_version"
    )
    for connection_id, sealed_access, sealed_refresh, version in rows.iterator(chunk_size=2000):
        access = unseal(bytes(sealed_access or b""), version)
        refresh = unseal(bytes(sealed_refresh or b""), version)
        want_access, want_refresh = expected[connection_id]
        assert want_access is None or access == want_access
        assert want_refresh is None or refresh == want_refresh
    assert tokens.access_token(ids[-1]) == expected[ids[-1]][0]


@pytest.mark.django_db(transaction=True)
def test_rotation_skips_rows_whose_key_is_gone_and_is_idempotent(settings: Any) -> None:
    lost, k1, k2 = new_key("k0"), new_key("k1"), new_key("k2")
    settings.CALENDAR_TOKEN_KEYS = [lost]
    store(1, prefix="orphan")
    settings.CALENDAR_TOKEN_KEYS = [k1]
    others = store(3)
    settings.CALENDAR_TOKEN_KEYS = [k2, k1]

    out = StringIO()
    call_command("rotate_calendar_keys", "--batch", "2", stdout=out)

    assert "3 connections re-sealed under key k2" in out.getvalue()
    assert "1 connections were sealed with a key that is not configured" in out.getvalue()
    assert set(
        CalendarConnection.objects.filter(key_version="k2").values_list("id", flat=True)
    ) == set(others)
    assert CalendarAudit.objects.filter(action=CalendarAudit.Action.KEY_ROTATED).count() == 3

    again = StringIO()
    call_command("rotate_calendar_keys", stdout=again)
    assert "0 connections re-sealed" in again.getvalue()
