"""Agents' calendar connections (tokens sealed at rest), booking rules, and the audit trail."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone


class Provider(models.TextChoices):
    GOOGLE = "google", "Google Calendar"
    MICROSOFT = "microsoft", "Outlook (Microsoft 365)"


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", "Connected"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnecting"


class ConnectionQuerySet(models.QuerySet["CalendarConnection"]):
    def active(self) -> ConnectionQuerySet:
        return self.filter(status=ConnectionStatus.ACTIVE)


class CalendarConnection(models.Model):
    """The one calendar an agent connected. Tokens are sealed with Dynchat's calendar keys
    (calendars.crypto), never with SECRET_KEY; ``key_version`` names the key that sealed them."""

    agent = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_connection"
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    status = models.CharField(
        max_length=16, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE
    )
    account_email = models.CharField(max_length=254, blank=True, default="")
    sealed_refresh_token = models.BinaryField(null=True, blank=True)
    sealed_access_token = models.BinaryField(null=True, blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    key_version = models.CharField(max_length=32, blank=True, default="")
    connected_at = models.DateTimeField(default=timezone.now)
    lost_at = models.DateTimeField(
        null=True, blank=True, help_text="When the calendar stopped answering for good (revoked)."
    )
    lost_reason = models.CharField(max_length=255, blank=True, default="")
    notified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the agent was told to reconnect (once per incident)."
    )

    objects = ConnectionQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["key_version"], name="calendar_key_version")]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} of {self.agent}"

    @property
    def is_active(self) -> bool:
        return self.status == ConnectionStatus.ACTIVE

    def access_token_fresh(self, now: datetime | None = None) -> bool:
        """Whether the stored access token has more than a minute left."""
        now = now or timezone.now()
        return bool(
            self.sealed_access_token
            and self.access_expires_at
            and self.access_expires_at - now > timedelta(seconds=60)
        )


def default_working_hours() -> dict[str, list[list[str]]]:
    """Monday to Friday, 9:00-17:00 in the agent's own time zone."""
    day = [["09:00", "17:00"]]
    return {"mon": day, "tue": day, "wed": day, "thu": day, "fri": day, "sat": [], "sun": []}


DEFAULT_SUBJECT = "{{meeting.title}} with {{agent.name}}"
DEFAULT_BODY = (
    'Hi {{lead.firstName:"there"}},\n\n'
    "you are booked with {{agent.name}} on {{meeting.start}} ({{meeting.duration}} minutes).\n\n"
    "{{meeting.video}}\n\n"
    "Need another time? Reschedule: {{meeting.reschedule_url}}\n"
    "Can't make it? Cancel: {{meeting.cancel_url}}\n"
)


class BookingRules(models.Model):
    """What an agent offers: working hours in their own zone, date overrides, duration, buffer,
    notice, horizon, and the invitation e-mail visitors get."""

    agent = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="booking_rules"
    )
    working_hours = models.JSONField(default=default_working_hours)
    date_overrides = models.JSONField(
        default=dict,
        blank=True,
        help_text="ISO date → that day's blocks instead of its weekday's ([]: day off).",
    )
    duration_minutes = models.PositiveSmallIntegerField(default=30)
    buffer_minutes = models.PositiveSmallIntegerField(default=0)
    notice_minutes = models.PositiveIntegerField(default=24 * 60)
    horizon_days = models.PositiveSmallIntegerField(default=14)
    meeting_title = models.CharField(max_length=200, default="Meeting")
    invitation_subject = models.CharField(max_length=200, default=DEFAULT_SUBJECT)
    invitation_body = models.TextField(max_length=4000, default=DEFAULT_BODY)
    add_video_link = models.BooleanField(
        default=False, help_text="Add a Google Meet or Teams link to the event."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"booking rules of {self.agent}"


class CalendarAudit(models.Model):
    """Who connected, disconnected or lost which calendar, and when (kept after disconnect)."""

    class Action(models.TextChoices):
        CONNECTED = "connected", "Connected"
        DISCONNECTED = "disconnected", "Disconnected"
        LOST = "lost", "Lost (revoked or expired)"
        KEY_ROTATED = "key_rotated", "Tokens re-sealed"

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    provider = models.CharField(max_length=16, choices=Provider.choices)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.provider}"

    @classmethod
    def record(cls, agent_id: int | None, action: str, provider: str, **detail: Any) -> None:
        cls.objects.create(agent_id=agent_id, action=action, provider=provider, detail=detail)
