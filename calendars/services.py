"""Connecting and disconnecting an agent's calendar, and their booking rules.

Every interface (the Calendar page, tests' factories, the demo) goes through these functions;
routing hears about connections through calendars.signals, sent once the transaction commits.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from calendars.crypto import seal, unseal
from calendars.models import BookingRules, CalendarAudit, CalendarConnection, ConnectionStatus
from calendars.providers import provider_for
from calendars.providers.base import AuthorizationFailed, Grant
from calendars.signals import calendar_connected, calendar_lost
from dynchat.models import User

logger = logging.getLogger("calendars")

RULE_FIELDS = (
    "working_hours",
    "date_overrides",
    "duration_minutes",
    "buffer_minutes",
    "notice_minutes",
    "horizon_days",
    "meeting_title",
    "invitation_subject",
    "invitation_body",
    "add_video_link",
)


def rules_for(agent: User) -> BookingRules:
    """The agent's booking rules, created with the defaults on first use."""
    rules, _ = BookingRules.objects.get_or_create(agent=agent)
    return rules


@transaction.atomic
def store_connection(agent: User, provider: str, grant: Grant) -> CalendarConnection:
    """Save the agent's (only) calendar connection from a fresh grant, replacing any earlier one;
    audit it and send ``calendar_connected`` on commit (reconnected: the earlier one was lost)."""
    earlier = CalendarConnection.objects.select_for_update().filter(agent=agent).first()
    reconnected = earlier is not None and earlier.status == ConnectionStatus.NEEDS_RECONNECT
    refresh_token = grant.tokens.refresh_token
    sealed_refresh: bytes | None = None
    if refresh_token is None and earlier is not None and earlier.provider == provider:
        # The provider kept the refresh token of the earlier grant (Google may): carry it over.
        refresh_token = unseal(bytes(earlier.sealed_refresh_token or b""), earlier.key_version)
    if not refresh_token:
        raise AuthorizationFailed("the provider granted no refresh token (offline access)")
    sealed_refresh, key_version = seal(refresh_token)
    sealed_access, _ = seal(grant.tokens.access_token)
    connection, _ = CalendarConnection.objects.update_or_create(
        agent=agent,
        defaults={
            "provider": provider,
            "status": ConnectionStatus.ACTIVE,
            "account_email": grant.account_email[:254],
            "sealed_refresh_token": sealed_refresh,
            "sealed_access_token": sealed_access,
            "access_expires_at": grant.tokens.expires_at,
            "key_version": key_version,
            "connected_at": timezone.now(),
            "lost_at": None,
            "lost_reason": "",
            "notified_at": None,
        },
    )
    rules_for(agent)
    CalendarAudit.record(
        agent.pk,
        CalendarAudit.Action.CONNECTED,
        provider,
        account=grant.account_email,
        reconnected=reconnected,
    )
    agent_id = int(agent.pk)
    transaction.on_commit(
        lambda: calendar_connected.send(
            sender=CalendarConnection, agent_id=agent_id, reconnected=reconnected
        )
    )
    return connection


def _revoke(connection: CalendarConnection) -> None:
    """Ask the provider to revoke the grant; a failure is logged, never fatal (the tokens are
    deleted either way)."""
    try:
        token = unseal(bytes(connection.sealed_refresh_token or b""), connection.key_version)
        provider_for(connection.provider).revoke(token)
    except Exception as error:  # whatever went wrong there, the tokens are deleted here
        logger.warning(
            "The %s grant of user %s could not be revoked: %s",
            connection.provider,
            connection.agent_id,
            error,
        )


def disconnect(agent: User) -> None:
    """Revoke the agent's grant at the provider (once), then null the sealed tokens and delete the
    connection in one transaction; audit; ``calendar_lost`` on commit. No connection: nothing."""
    connection = CalendarConnection.objects.filter(agent=agent).first()
    if connection is None:
        return
    if connection.sealed_refresh_token:
        _revoke(connection)
    with transaction.atomic():
        locked = CalendarConnection.objects.select_for_update().filter(pk=connection.pk).first()
        if locked is None:  # disconnected meanwhile
            return
        locked.sealed_refresh_token = None
        locked.sealed_access_token = None
        locked.access_expires_at = None
        locked.key_version = ""
        locked.save(
            update_fields=[
                "sealed_refresh_token",
                "sealed_access_token",
                "access_expires_at",
                "key_version",
            ]
        )
        locked.delete()
        CalendarAudit.record(
            agent.pk,
            CalendarAudit.Action.DISCONNECTED,
            locked.provider,
            account=locked.account_email,
        )
        agent_id = int(agent.pk)
        transaction.on_commit(
            lambda: calendar_lost.send(
                sender=CalendarConnection, agent_id=agent_id, reason="disconnected"
            )
        )


@transaction.atomic
def save_rules(agent: User, cleaned_data: dict[str, Any]) -> BookingRules:
    """Store the agent's booking rules and time zone, as the rules form cleaned them."""
    rules = rules_for(agent)
    changed = [field for field in RULE_FIELDS if field in cleaned_data]
    for field in changed:
        setattr(rules, field, cleaned_data[field])
    rules.save(update_fields=[*changed, "updated_at"])
    zone = cleaned_data.get("time_zone")
    if zone and zone != agent.time_zone:
        agent.time_zone = zone
        agent.save(update_fields=["time_zone"])
    return rules
