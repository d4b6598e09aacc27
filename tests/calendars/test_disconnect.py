"""O-9: an agent disconnects their calendar: the grant is revoked at the provider once, the sealed
tokens are nulled and the connection deleted in one transaction, and the audit keeps a row."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calendars import services
from calendars.models import CalendarAudit, CalendarConnection, ConnectionStatus
from calendars.providers.base import Grant, TokenSet
from calendars.signals import calendar_lost
from dynchat.models import User

EMAIL = "alex.agent@acme.example"


pytestmark = pytest.mark.usefixtures("calendar_settings")


@pytest.fixture
def lost() -> Iterator[list[dict[str, Any]]]:
    heard: list[dict[str, Any]] = []

    def receiver(sender: object, **kwargs: Any) -> None:
        heard.append(kwargs)

    calendar_lost.connect(receiver, dispatch_uid="test-disconnect")
    yield heard
    calendar_lost.disconnect(dispatch_uid="test-disconnect")


def connected(agent: User, sandbox: Any, provider: str = "google") -> CalendarConnection:
    tokens = sandbox.issue_tokens(provider, EMAIL)
    grant = Grant(
        TokenSet(
            tokens["access_token"],
            tokens["refresh_token"],
            timezone.now() + timedelta(seconds=tokens["expires_in"]),
        ),
        EMAIL,
    )
    return services.store_connection(agent, provider, grant)


def test_disconnecting_revokes_the_grant_once_and_deletes_the_tokens(
    agent: User,
    agent_client: Client,
    calendar_sandbox: Any,
    lost: list[dict[str, Any]],
    django_capture_on_commit_callbacks: Any,
) -> None:
    connected(agent, calendar_sandbox)

    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(reverse("calendars:disconnect"), follow=True)

    assert response.status_code == 200
    assert "No calendar connected" in response.content.decode()
    assert calendar_sandbox.calls("google.revoke") == 1
    assert not CalendarConnection.objects.exists()
    audit = CalendarAudit.objects.first()
    assert audit is not None
    assert (audit.agent_id, audit.action, audit.provider) == (agent.pk, "disconnected", "google")
    assert audit.detail == {"account": EMAIL}
    assert lost == [{"signal": calendar_lost, "agent_id": agent.pk, "reason": "disconnected"}]


def test_the_sealed_tokens_are_nulled_and_the_row_deleted_in_one_transaction(
    agent: User, calendar_sandbox: Any
) -> None:
    connected(agent, calendar_sandbox)

    with CaptureQueriesContext(db) as captured:
        services.disconnect(agent)

    statements = [query["sql"] for query in captured.captured_queries]
    nulled = next(
        i
        for i, sql in enumerate(statements)
        if sql.startswith('UPDATE "calendars_calendarconnection"')
        and '"sealed_refresh_token" = NULL' in sql
        and '"sealed_access_token" = NULL' in sql
    )
    deleted = next(
        i
        for i, sql in enumerate(statements)
        if sql.startswith('DELETE FROM "calendars_calendarconnection"')
    )
    # Inside the test's own transaction, atomic() shows as a savepoint around its statements.
    opened = max(i for i, sql in enumerate(statements[:nulled]) if sql.startswith("SAVEPOINT"))
    released = next(
        i for i, sql in enumerate(statements) if i > deleted and sql.startswith("RELEASE SAVEPOINT")
    )
    savepoint = statements[opened].split()[-1]
    assert statements[released].split()[-1] == savepoint
    assert not any(
        sql.startswith(("RELEASE SAVEPOINT", "ROLLBACK"))
        for sql in statements[opened + 1 : deleted]
    )


def test_a_failing_revoke_does_not_keep_the_tokens(
    agent: User, agent_client: Client, calendar_sandbox: Any, caplog: Any
) -> None:
    connected(agent, calendar_sandbox)
    calendar_sandbox.fault("google.revoke", "503")
    caplog.set_level(logging.WARNING, logger="calendars")

    response = agent_client.post(reverse("calendars:disconnect"))

    assert response.status_code == 302
    assert not CalendarConnection.objects.exists()
    assert CalendarAudit.objects.filter(action="disconnected").count() == 1
    assert "could not be revoked" in caplog.text


def test_a_calendar_that_needs_reconnecting_can_be_disconnected(
    agent: User, agent_client: Client, calendar_sandbox: Any
) -> None:
    connected(agent, calendar_sandbox, "microsoft")
    CalendarConnection.objects.update(status=ConnectionStatus.NEEDS_RECONNECT)

    agent_client.post(reverse("calendars:disconnect"))

    assert not CalendarConnection.objects.exists()
    assert CalendarAudit.objects.filter(action="disconnected", provider="microsoft").exists()


def test_disconnecting_without_a_calendar_changes_nothing(
    agent_client: Client, calendar_sandbox: Any
) -> None:
    response = agent_client.post(reverse("calendars:disconnect"))
    assert response.status_code == 302
    assert calendar_sandbox.calls("google.revoke") == 0
    assert not CalendarAudit.objects.exists()


def test_disconnect_takes_only_post(agent_client: Client) -> None:
    assert agent_client.get(reverse("calendars:disconnect")).status_code == 405
