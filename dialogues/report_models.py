"""What reports read and what the 90-day purge and privacy requests record.

Reports never scan raw events: the counters below are kept up to date as conversations happen
(one row per dialogue, UTC day and audience — known visitors or anonymous ones) and outlive the
purge of the events they were counted from. They hold no personal data; page URLs are stored
without their query strings and fragments.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from dynchat.models import Site


class DailyCount(models.Model):
    """What every daily counter is kept by: a dialogue, a UTC day and an audience."""

    dialogue = models.ForeignKey("dialogues.Dialogue", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    known = models.BooleanField(help_text="Counts of visitors Dynchat knew (a lead or e-mail).")

    class Meta:
        abstract = True


class DailyMetric(DailyCount):
    """A dialogue's counts for one UTC day, for known visitors or for anonymous ones."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    dialogue = models.ForeignKey(
        "dialogues.Dialogue", on_delete=models.CASCADE, related_name="daily_metrics"
    )
    triggered = models.PositiveIntegerField(default=0)
    engaged = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    captured = models.PositiveIntegerField(default=0)
    meetings = models.PositiveIntegerField(default=0)
    goals = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dialogue", "day", "known"], name="daily_metric_per_dialogue_day"
            )
        ]
        indexes = [models.Index(fields=["site", "day"], name="daily_metric_site_day")]

    def __str__(self) -> str:
        return f"{self.dialogue_id} on {self.day}"


class DailyGoal(DailyCount):
    """How often a goal was reached in a dialogue on one UTC day."""

    goal = models.CharField(max_length=100)
    reached = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dialogue", "day", "known", "goal"], name="daily_goal_per_dialogue_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.goal} on {self.day}"


class DailyPage(DailyCount):
    """Where a dialogue was triggered: a page (no query string) and its count for a UTC day."""

    page = models.CharField(max_length=512)
    triggered = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dialogue", "day", "known", "page"], name="daily_page_per_dialogue_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.page} on {self.day}"


class DailyCard(models.Model):
    """Drop-off: how many conversations reached a card of a version, and how many answered it."""

    version = models.ForeignKey(
        "dialogues.DialogueVersion", on_delete=models.CASCADE, related_name="+"
    )
    card = models.CharField(max_length=32)
    day = models.DateField()
    reached = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "card", "day"], name="daily_card_per_version_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.card} on {self.day}"


class PurgeRun(models.Model):
    """One run of the 90-day purge: what it deleted, or why it refused to."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        REFUSED = "refused", "Refused"
        FAILED = "failed", "Failed"

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    cutoff = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.RUNNING)
    reason = models.TextField(blank=True, default="")
    deleted = models.JSONField(default=dict, blank=True, help_text="Rows deleted per table.")
    batches = models.PositiveIntegerField(default=0)
    override = models.BooleanField(default=False)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"purge {self.started_at:%Y-%m-%d %H:%M} {self.outcome}"


class PrivacyRequest(models.Model):
    """An export or erase of one person's data, logged without the data itself."""

    class Kind(models.TextChoices):
        EXPORT = "export", "Export"
        ERASE = "erase", "Erase"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    subject = models.CharField(
        max_length=64, help_text="SHA-256 of the normalised e-mail or the visitor id: no PII."
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    via = models.CharField(max_length=16, help_text="admin or command")
    summary = models.JSONField(default=dict, blank=True, help_text="What was found or erased.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject[:12]}"
