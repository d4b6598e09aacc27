"""Access tokens for calendar calls, and what happens when a calendar is lost.

``access_token`` hands out the stored access token while it has more than a minute left, and
otherwise refreshes it ONCE across all processes: the refresh runs while holding the connection's
row lock, and whoever waited for the lock finds the fresh token when it gets it. Providers that
rotate refresh tokens (Microsoft) reject the old one after a refresh, so two refreshes racing
would revoke each other.

A refusal for good (invalid_grant) or a token Dynchat can no longer open (its key is gone) marks
the connection lost: it is never sent to the token endpoint again until the agent reconnects, and
the agent is told once per incident. Anything that may pass (5xx, timeouts) is retried a few times
with backoff and then reported as ProviderUnavailable, with the connection left active.

Call these outside ``transaction.atomic``: the row lock must be released when the refresh is
stored, not when some caller's transaction ends.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from calendars.crypto import KeyUnavailable, newest_version, seal, unseal
from calendars.models import CalendarAudit, CalendarConnection, ConnectionStatus
from calendars.providers import provider_for
from calendars.providers.base import (
    CalendarError,
    NeedsReconnect,
    Provider,
    ProviderUnavailable,
    TokenRevoked,
    TokenSet,
)
from calendars.signals import calendar_lost
from calendars.tasks import send_reconnect_notice as send_reconnect_notice_task

logger = logging.getLogger(__name__)

#: Token-endpoint attempts before a transient failure is reported as ProviderUnavailable.
MAX_ATTEMPTS = 5
#: The first pause between attempts, doubled after each; the setting
#: CALENDAR_RETRY_BACKOFF_SECONDS overrides it (tests make it tiny).
BACKOFF_SECONDS = 0.5

KEY_MISSING = "Dynchat can no longer read the stored authorization (its key was removed)."
REVOKED = "The calendar provider revoked Dynchat's access."
SEALED_FIELDS = ["sealed_access_token", "sealed_refresh_token", "access_expires_at", "key_version"]


def access_token(connection_id: int) -> str:
    """A fresh access token for the connection; NeedsReconnect or ProviderUnavailable if none."""
    connection = CalendarConnection.objects.filter(id=connection_id).first()
    if connection is None:
        raise NeedsReconnect("no calendar is connected")
    if not connection.is_active:
        raise NeedsReconnect(connection.lost_reason or "the calendar must be reconnected")
    if connection.access_token_fresh():
        try:
            return _open(connection.sealed_access_token, connection.key_version)
        except KeyUnavailable:
            mark_lost(connection_id, KEY_MISSING)
            raise
    return _refresh(connection_id)


def _refresh(connection_id: int) -> str:
    failure: CalendarError
    with transaction.atomic():
        connection = CalendarConnection.objects.select_for_update().get(id=connection_id)
        if not connection.is_active:
            raise NeedsReconnect(connection.lost_reason or "the calendar must be reconnected")
        try:
            if connection.access_token_fresh():  # refreshed by someone we waited for
                return _open(connection.sealed_access_token, connection.key_version)
            refresh_token = _open(connection.sealed_refresh_token, connection.key_version)
        except KeyUnavailable as error:
            failure, reason = error, KEY_MISSING
        else:
            try:
                tokens = _refresh_with_retries(provider_for(connection.provider), refresh_token)
            except TokenRevoked as error:
                failure, reason = error, REVOKED
            else:
                for field, value in sealed_fields(tokens, refresh_token).items():
                    setattr(connection, field, value)
                connection.save(update_fields=SEALED_FIELDS)
                return tokens.access_token
        _lose(connection, reason)
    # A missing key stays recognisable (KeyUnavailable); a revocation is a plain NeedsReconnect.
    raise (KeyUnavailable if isinstance(failure, KeyUnavailable) else NeedsReconnect)(
        reason
    ) from failure


def _refresh_with_retries(provider: Provider, refresh_token: str) -> TokenSet:
    """One refresh, retried with exponential backoff while the failure may pass."""
    pause = float(getattr(settings, "CALENDAR_RETRY_BACKOFF_SECONDS", BACKOFF_SECONDS))
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return provider.refresh(refresh_token)
        except ProviderUnavailable as error:
            if attempt == MAX_ATTEMPTS:
                raise
            logger.warning(
                "%s token endpoint failed (attempt %d of %d): %s",
                provider.name,
                attempt,
                MAX_ATTEMPTS,
                error,
            )
            time.sleep(pause * 2 ** (attempt - 1))
    raise AssertionError("unreachable")  # pragma: no cover


def _open(blob: bytes | memoryview | None, key_version: str) -> str:
    if blob is None:
        raise KeyUnavailable("no token is stored")
    return unseal(blob, key_version)


def sealed_fields(tokens: TokenSet, refresh_token: str = "") -> dict[str, Any]:
    """The columns that store ``tokens`` sealed under the newest key. Google keeps the refresh
    token it had (``tokens.refresh_token`` None): pass the current one as ``refresh_token``."""
    access_blob, version = seal(tokens.access_token)
    refresh_blob, refresh_version = seal(tokens.refresh_token or refresh_token)
    if refresh_version != version:  # the key list changed between the two calls
        access_blob, version = seal(tokens.access_token)
    return {
        "sealed_access_token": access_blob,
        "sealed_refresh_token": refresh_blob,
        "access_expires_at": tokens.expires_at,
        "key_version": version,
    }


def mark_lost(connection_id: int, reason: str) -> None:
    """The connection cannot be used until the agent reconnects (revoked, or its key is gone)."""
    with transaction.atomic():
        connection = CalendarConnection.objects.select_for_update().filter(id=connection_id).first()
        if connection is not None:
            _lose(connection, reason)


def _lose(connection: CalendarConnection, reason: str) -> None:
    """Inside a transaction holding the row lock: a new incident starts, told once."""
    if connection.status == ConnectionStatus.NEEDS_RECONNECT:
        return
    connection.status = ConnectionStatus.NEEDS_RECONNECT
    connection.lost_at = timezone.now()
    connection.lost_reason = reason[:255]
    connection.notified_at = None
    connection.save(update_fields=["status", "lost_at", "lost_reason", "notified_at"])
    CalendarAudit.record(
        connection.agent_id, CalendarAudit.Action.LOST, connection.provider, reason=reason
    )
    logger.warning("Calendar of agent %s lost: %s", connection.agent_id, reason)
    agent_id = connection.agent_id
    transaction.on_commit(
        lambda: calendar_lost.send(sender=CalendarConnection, agent_id=agent_id, reason=reason)
    )
    send_reconnect_notice_task.delay_on_commit(connection.id)


def reseal(batch: int = 500) -> Iterator[tuple[int, int]]:
    """Re-seal every connection not under the newest key, ``batch`` rows per transaction, each
    row locked while re-sealed. Yields (re-sealed, skipped) per batch; skipped rows were sealed
    with a key that is no longer configured (they need reconnecting, not re-sealing)."""
    newest = newest_version()
    last_id = 0
    while True:
        ids = list(
            CalendarConnection.objects.filter(id__gt=last_id)
            .exclude(key_version=newest)
            .order_by("id")
            .values_list("id", flat=True)[:batch]
        )
        if not ids:
            return
        last_id = ids[-1]
        with transaction.atomic():
            rows = list(
                CalendarConnection.objects.select_for_update()
                .filter(id__in=ids)
                .exclude(key_version=newest)
                .order_by("id")
            )
            done: list[CalendarConnection] = []
            for row in rows:
                try:
                    _reseal_row(row)
                except KeyUnavailable:
                    continue
                done.append(row)
            CalendarConnection.objects.bulk_update(
                done, ["sealed_access_token", "sealed_refresh_token", "key_version"]
            )
            CalendarAudit.objects.bulk_create(
                CalendarAudit(
                    agent_id=row.agent_id,
                    action=CalendarAudit.Action.KEY_ROTATED,
                    provider=row.provider,
                    detail={"to": row.key_version},
                )
                for row in done
            )
        yield len(done), len(rows) - len(done)


def _reseal_row(row: CalendarConnection) -> None:
    plain = {
        field: _open(getattr(row, field), row.key_version)
        for field in ("sealed_access_token", "sealed_refresh_token")
        if getattr(row, field) is not None
    }
    version = newest_version()
    for field, text in plain.items():
        blob, version = seal(text)
        setattr(row, field, blob)
    row.key_version = version
