"""Dialogues, their immutable published versions, goals, visitors and conversations."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from dynchat.models import Site

MAX_PRIORITY = 100


def blank_flow() -> dict[str, Any]:
    return {"version": 1, "start": "welcome", "cards": {"welcome": {"type": "end"}}}


def default_targeting() -> dict[str, Any]:
    return {
        "include": [],
        "exclude": [],
        "audience": [],
        "trigger": {"kind": "immediately", "amount": 0},
    }


class DialogueStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    UNPUBLISHED = "unpublished", "Unpublished"


class DialogueQuerySet(models.QuerySet["Dialogue"]):
    def of_site(self, site: Site) -> DialogueQuerySet:
        return self.filter(site=site)

    def live(self) -> DialogueQuerySet:
        """Published dialogues with their current version, highest priority (1) first."""
        return (
            self.filter(status=DialogueStatus.PUBLISHED, live_version__isnull=False)
            .select_related("live_version")
            .order_by("priority", "id")
        )


class Dialogue(models.Model):
    """One chat engagement: where and to whom it shows (targeting) and what it says (flow).

    ``flow`` and ``targeting`` are the editable draft; publishing freezes both into a
    ``DialogueVersion``, which is what visitors get.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="dialogues")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=2000)
    priority = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_PRIORITY)],
        help_text="1 is the highest; of several qualifying, the lowest shows.",
    )
    status = models.CharField(
        max_length=12, choices=DialogueStatus.choices, default=DialogueStatus.DRAFT
    )
    flow = models.JSONField(default=blank_flow)
    targeting = models.JSONField(default=default_targeting)
    live_version = models.ForeignKey(
        "DialogueVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The version visitors get while the dialogue is published.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DialogueQuerySet.as_manager()

    class Meta:
        ordering = ["priority", "name", "id"]
        indexes = [models.Index(fields=["site", "status"], name="dialogue_site_status")]

    def __str__(self) -> str:
        return self.name

    @property
    def has_unpublished_changes(self) -> bool:
        live = self.live_version
        return live is None or (
            live.flow != self.flow
            or live.targeting != self.targeting
            or live.priority != self.priority
        )


class ImmutableVersion(Exception):
    """A published version was about to change."""


class DialogueVersion(models.Model):
    """What a dialogue was when it was published: frozen, so engaged visitors can finish it."""

    dialogue = models.ForeignKey(Dialogue, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    flow = models.JSONField()
    targeting = models.JSONField()
    priority = models.PositiveSmallIntegerField()
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["dialogue", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["dialogue", "number"], name="version_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.dialogue_id} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableVersion(f"version {self.pk} is published and cannot change")
        super().save(*args, **kwargs)


class Goal(models.Model):
    """A named goal of a site; goal cards of any dialogue record it."""

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="goals")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint("site", Lower("name"), name="goal_name_unique_per_site")
        ]

    def __str__(self) -> str:
        return self.name


class Visitor(models.Model):
    """A browser on a site, by the first-party id the widget keeps, and who it turned out to be.

    ``lead_id`` is the synced Marketo lead (by Munchkin cookie or by an e-mail typed in chat); it
    is an id, not a foreign key, because the sync may replace or delete leads at any time.
    ``fields`` holds what the visitor told the chat, by lead field name.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="visitors")
    key = models.CharField(max_length=64)
    munchkin_cookie = models.CharField(max_length=255, blank=True, default="")
    lead_id = models.BigIntegerField(null=True, blank=True)
    email = models.CharField(max_length=254, blank=True, default="")
    fields = models.JSONField(default=dict, blank=True)
    quarantined = models.BooleanField(
        default=False, help_text="Captured in a burst of leads: kept, not sent to Marketo."
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(
        null=True, blank=True, help_text="Withdrew consent: their tokens and browser id are void."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["site", "key"], name="visitor_key_unique_per_site")
        ]
        indexes = [
            models.Index(fields=["lead_id"], name="visitor_lead"),
            models.Index(Lower("email"), name="visitor_email_ci"),
        ]

    def __str__(self) -> str:
        return self.email or f"visitor {self.key[:8]}"

    @property
    def label(self) -> str:
        """How the admin names the visitor: their e-mail, else their lead, else anonymous."""
        if self.email:
            return self.email
        return f"Marketo lead {self.lead_id}" if self.lead_id else "Anonymous visitor"

    def withdraw(self) -> None:
        """The visitor withdrew consent: the id their browser kept no longer finds them (it cannot
        be sent: "~" is not a visitor-id character) and their conversation tokens are void."""
        self.key = "~" + secrets.token_urlsafe(32)
        self.withdrawn_at = timezone.now()
        self.save(update_fields=["key", "withdrawn_at"])


class ConversationState(models.TextChoices):
    TRIGGERED = "triggered", "Triggered"
    ENGAGED = "engaged", "Engaged"
    COMPLETED = "completed", "Completed"


class ConversationQuerySet(models.QuerySet["Conversation"]):
    def open(self) -> ConversationQuerySet:
        return self.exclude(state=ConversationState.COMPLETED)


class Conversation(models.Model):
    """A visitor's one run through one dialogue (a dialogue shows once, so at most one each)."""

    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="conversations")
    dialogue = models.ForeignKey(Dialogue, on_delete=models.CASCADE, related_name="conversations")
    version = models.ForeignKey(DialogueVersion, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(
        max_length=10, choices=ConversationState.choices, default=ConversationState.TRIGGERED
    )
    card = models.CharField(
        max_length=32, blank=True, default="", help_text="The card awaiting the visitor."
    )
    last_seq = models.PositiveIntegerField(
        default=0, help_text="The highest event number received (repeats are ignored)."
    )
    page_url = models.CharField(max_length=2048, blank=True, default="")
    started_at = models.DateTimeField(default=timezone.now)
    engaged_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["visitor", "dialogue"], name="one_conversation_per_visitor_and_dialogue"
            )
        ]
        indexes = [models.Index(fields=["dialogue", "started_at"], name="conversation_started")]

    def __str__(self) -> str:
        return f"conversation {self.pk}"

    @property
    def token(self) -> str:
        """The bearer token the widget sends in a header: the id and its MAC, nothing stored."""
        return f"{self.pk}.{_mac(self.pk)}"

    @staticmethod
    def id_from_token(token: str) -> int | None:
        """The conversation id a token was issued for, or None when it is not genuine."""
        head, _, mac = token.partition(".")
        if not head.isdigit() or len(head) > 18 or not constant_time_compare(mac, _mac(head)):
            return None
        return int(head)


def _mac(conversation_id: object) -> str:
    mac = salted_hmac("dynchat.conversation-token", str(conversation_id), algorithm="sha256")
    return mac.hexdigest()[:40]


class EventKind(models.TextChoices):
    TRIGGERED = "triggered", "Triggered"
    OPENED = "opened", "Opened"
    CLOSED = "closed", "Closed"
    ANSWER = "answer", "Answered"
    CAPTURE = "capture", "Captured"
    DECLINED = "declined", "Declined"
    GOAL = "goal", "Reached goal"
    BOOKED = "booked", "Booked a meeting"
    COMPLETED = "completed", "Completed"


class ConversationEvent(models.Model):
    """Something that happened in a conversation; reports count these, the purge removes them."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=EventKind.choices)
    card = models.CharField(max_length=32, blank=True, default="")
    value = models.TextField(blank=True, default="")
    page_url = models.CharField(max_length=2048, blank=True, default="")
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["conversation", "id"], name="event_conversation"),
            models.Index(fields=["occurred_at"], name="event_occurred"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.card}".strip()


class SiteAlert(models.Model):
    """Something a marketer must hear about once per incident (e.g. a burst of fake leads)."""

    class Kind(models.TextChoices):
        LEAD_BURST = "lead_burst", "Burst of captured leads"

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    message = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["site", "kind"],
                condition=models.Q(resolved_at=None),
                name="one_open_alert_per_site_and_kind",
            )
        ]

    def __str__(self) -> str:
        return self.message

    def resolve(self) -> None:
        """Close the alert (a new incident opens a new one)."""
        SiteAlert.objects.filter(pk=self.pk, resolved_at=None).update(resolved_at=timezone.now())


# The reporting counters, purge runs and privacy requests live in their own module.
from dialogues.report_models import (  # noqa: E402
    DailyCard,
    DailyGoal,
    DailyMetric,
    DailyPage,
    PrivacyRequest,
    PurgeRun,
)

__all__ = [
    "DailyCard",
    "DailyGoal",
    "DailyMetric",
    "DailyPage",
    "PrivacyRequest",
    "PurgeRun",
]
