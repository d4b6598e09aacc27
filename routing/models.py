"""The agent queue: who is in the rotation, in which order, and how many meetings each has had."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Rotation(models.Model):
    """The one rotation of this Dynchat (a single row, id 1). Booking locks it with
    ``SELECT … FOR UPDATE`` so that choosing an agent and recording the meeting are one step."""

    count_cancellations = models.BooleanField(
        default=False,
        help_text="A cancelled meeting still counts as the agent's turn (off: they get it back).",
    )
    agent_lead_field = models.CharField(
        max_length=80,
        blank=True,
        default="",
        help_text="Marketo lead field that receives the assigned agent's e-mail (empty: none).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return "rotation"

    @classmethod
    def lock(cls) -> Rotation:
        """The rotation row, locked until the current transaction ends (created on first use)."""
        cls.objects.get_or_create(pk=1)
        return cls.objects.select_for_update().get(pk=1)

    @classmethod
    def current(cls) -> Rotation:
        return cls.objects.get_or_create(pk=1)[0]


class RotationMember(models.Model):
    """An agent with a connected calendar, their place in the queue and their level.

    ``level`` is the meetings credited to the agent divided by their weight, plus calibration:
    whoever has the lowest level is next (ties by position), so equal weights give strict round
    robin and weight 2 gives two turns per cycle. A new or returning agent starts at the mean.
    """

    agent = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rotation_member"
    )
    position = models.PositiveIntegerField(default=0)
    level = models.FloatField(default=0.0)
    weight = models.PositiveSmallIntegerField(default=1)
    meetings = models.PositiveIntegerField(default=0, help_text="Meetings assigned while a member.")
    paused = models.BooleanField(default=False)
    away_since = models.DateTimeField(
        null=True, blank=True, help_text="When the calendar was lost (None while connected)."
    )
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return f"{self.agent} in the rotation"
