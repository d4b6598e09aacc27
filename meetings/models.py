"""Meetings booked through the widget, with the guarantee that one agent's never overlap."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeBoundary, RangeOperators
from django.db import models
from django.db.models import Func, Q
from django.utils import timezone

from dynchat.models import Site


class MeetingStatus(models.TextChoices):
    HELD = "held", "Held"  # a slot kept for a visitor a few minutes, not yet booked
    UPCOMING = "upcoming", "Upcoming"
    COMPLETED = "completed", "Completed"
    NO_SHOW = "no_show", "No-show"
    CANCELLED = "cancelled", "Cancelled"
    RESCHEDULED = "rescheduled", "Rescheduled"


# The statuses of a meeting that takes (or took) the agent's time: these never overlap.
TAKING_PLACE = (MeetingStatus.UPCOMING, MeetingStatus.COMPLETED, MeetingStatus.NO_SHOW)


class TsTzRange(Func):
    function = "TSTZRANGE"
    output_field = models.DateTimeField()  # only used inside the constraint


class MeetingQuerySet(models.QuerySet["Meeting"]):
    def taking_place(self) -> MeetingQuerySet:
        return self.filter(status__in=TAKING_PLACE)

    def live_holds(self, now: datetime | None = None) -> MeetingQuerySet:
        return self.filter(status=MeetingStatus.HELD, hold_expires_at__gt=now or timezone.now())

    def blocking(self, now: datetime | None = None) -> MeetingQuerySet:
        """Meetings and live holds: what an agent's availability must leave out."""
        now = now or timezone.now()
        return self.filter(
            Q(status__in=TAKING_PLACE) | Q(status=MeetingStatus.HELD, hold_expires_at__gt=now)
        )

    def overlapping(self, start: datetime, end: datetime) -> MeetingQuerySet:
        return self.filter(starts_at__lt=end, ends_at__gt=start)

    def visible_to(self, user: Any) -> MeetingQuerySet:
        if getattr(user, "is_marketer", False):
            return self.exclude(status=MeetingStatus.HELD)
        return self.exclude(status=MeetingStatus.HELD).filter(agent=user)


class Meeting(models.Model):
    """One meeting (or a short-lived hold) of a visitor with an agent.

    The exclusion constraint makes two meetings of one agent that take place overlap impossible,
    whatever the concurrency: it is the database, not the code, that says no.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="meetings")
    dialogue = models.ForeignKey(
        "dialogues.Dialogue", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    conversation_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="meetings"
    )
    lead_email = models.CharField(max_length=254, blank=True, default="")
    lead_name = models.CharField(max_length=200, blank=True, default="")
    visitor_time_zone = models.CharField(max_length=64, default="UTC")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=12, choices=MeetingStatus.choices, default=MeetingStatus.UPCOMING
    )
    hold_expires_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=128, null=True, blank=True, unique=True)
    request_fingerprint = models.CharField(max_length=64, blank=True, default="")
    reason = models.CharField(
        max_length=255, blank=True, default="", help_text="Why routing chose this agent."
    )
    routing_detail = models.JSONField(default=dict, blank=True)
    calendar_event_id = models.CharField(max_length=255, blank=True, default="")
    join_url = models.CharField(max_length=1024, blank=True, default="")
    ics_uid = models.CharField(max_length=255, blank=True, default="")
    ics_sequence = models.PositiveIntegerField(default=0)
    rescheduled_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="rescheduled_to"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at", "-id"]
        constraints = [
            ExclusionConstraint(
                name="no_overlapping_meetings_per_agent",
                expressions=[
                    (TsTzRange("starts_at", "ends_at", RangeBoundary()), RangeOperators.OVERLAPS),
                    ("agent", RangeOperators.EQUAL),
                ],
                condition=Q(status__in=TAKING_PLACE),
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(fields=["agent", "starts_at"], name="meeting_agent_start"),
            models.Index(fields=["status", "ends_at"], name="meeting_status_end"),
            models.Index(fields=["lead_email"], name="meeting_lead_email"),
        ]

    def __str__(self) -> str:
        return f"meeting {self.pk} with {self.lead_email or 'a visitor'}"

    @property
    def duration_minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def took_place(self) -> bool | None:
        """Yes for completed, no for no-show, unknown otherwise."""
        if self.status == MeetingStatus.COMPLETED:
            return True
        if self.status == MeetingStatus.NO_SHOW:
            return False
        return None
