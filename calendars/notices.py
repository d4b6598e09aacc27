"""Telling an agent their calendar must be reconnected: one e-mail per incident."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from calendars.models import CalendarConnection, ConnectionStatus

SUBJECT = "Reconnect your calendar"


def send_reconnect_notice(connection_id: int) -> bool:
    """E-mail the agent a link to the Calendar page, unless this incident was told already.

    The claim (``notified_at``) and the e-mail share a transaction: a failed send leaves the
    incident unclaimed for the retry; a second run finds it claimed and sends nothing.
    """
    with transaction.atomic():
        claimed = CalendarConnection.objects.filter(
            id=connection_id, status=ConnectionStatus.NEEDS_RECONNECT, notified_at=None
        ).update(notified_at=timezone.now())
        if not claimed:
            return False
        connection = CalendarConnection.objects.select_related("agent").get(id=connection_id)
        agent = connection.agent
        body = render_to_string(
            "calendars/email/reconnect.txt",
            {
                "agent": agent,
                "provider": connection.get_provider_display(),
                "reason": connection.lost_reason,
                "calendar_url": settings.SITE_URL.rstrip("/") + reverse("calendars:calendar"),
            },
        )
        send_mail(SUBJECT, body, None, [agent.email])
    return True
