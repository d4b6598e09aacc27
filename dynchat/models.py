"""Accounts, roles, sites and the worker heartbeat: what every other app stands on."""

from __future__ import annotations

import secrets
import zoneinfo
from datetime import timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class Role(models.TextChoices):
    MARKETER = "marketer", "Marketer"
    AGENT = "agent", "Agent"


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone.")


class UserManager(BaseUserManager["User"]):
    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        """``manage.py createsuperuser`` makes a marketer: the role that may do everything."""
        return self.create_user(email, password, role=Role.MARKETER, **fields)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser):
    """A person who signs in to the admin: a marketer (everything) or an agent (own calendar)."""

    email = models.EmailField(max_length=254, unique=True)
    name = models.CharField(max_length=200, blank=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.AGENT)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["name"]

    objects: ClassVar[UserManager] = UserManager()

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_unique_ci")]

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def is_marketer(self) -> bool:
        return self.role == Role.MARKETER

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return (self.name or self.email).split()[0]


def new_site_key() -> str:
    return secrets.token_urlsafe(16)


def new_identity_secret() -> str:
    return secrets.token_hex(32)


class Site(models.Model):
    """A customer website that embeds the widget: its public key and the origins allowed to use it.

    Sites live here rather than in ``widget`` because dialogues, reports and routing all belong to
    a site, and those apps may depend on ``dynchat`` but not on the widget interface.
    """

    name = models.CharField(max_length=100)
    key = models.CharField(max_length=32, unique=True, default=new_site_key, editable=False)
    allowed_origins = ArrayField(models.CharField(max_length=255), default=list, blank=True)
    chat_enabled = models.BooleanField(
        default=True, help_text="Off hides every dialogue of this site at once."
    )
    require_consent = models.BooleanField(
        default=False,
        help_text="Store nothing in visitors' browsers until they open the chat or your consent "
        "banner grants it (Dynchat('consent.grant')).",
    )
    appearance = models.JSONField(
        default=dict, blank=True, help_text="Colours, launcher, bot name… (widget.appearance)."
    )
    verify_identity = models.BooleanField(
        default=False,
        help_text="Trust Dynchat('identify', …) only with a hash your server signs with the site's "
        "identity secret.",
    )
    identity_secret = models.CharField(max_length=64, default=new_identity_secret, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def allows(self, origin: str) -> bool:
        """Whether a page on ``origin`` (exactly as the browser sends it) may use this site."""
        return origin in self.allowed_origins

    @property
    def script_url(self) -> str:
        return f"{settings.SITE_URL}/widget.js"

    @property
    def install_snippet(self) -> str:
        return f'<script async src="{self.script_url}" data-site="{self.key}"></script>'

    def set_chat_enabled(self, enabled: bool) -> None:
        self.chat_enabled = enabled
        self.save(update_fields=["chat_enabled", "updated_at"])


class HeartbeatQuerySet(models.QuerySet["WorkerHeartbeat"]):
    def latest_seen(self) -> WorkerHeartbeat | None:
        return self.order_by("-last_seen").first()


class WorkerHeartbeat(models.Model):
    """When each Celery worker last ran the periodic heartbeat task (proves worker and beat run)."""

    worker = models.CharField(max_length=200, unique=True)
    last_seen = models.DateTimeField()

    objects = HeartbeatQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.worker} at {self.last_seen:%Y-%m-%d %H:%M:%S}"

    @property
    def is_recent(self) -> bool:
        """Seen within three heartbeat intervals."""
        window = timedelta(seconds=3 * settings.HEARTBEAT_SECONDS)
        return timezone.now() - self.last_seen <= window


class ProcessedTask(models.Model):
    """The idempotency key of a task effect that happened, committed in the effect's transaction.

    A key only guards against a message delivered twice, which happens within hours (visibility
    timeout, retries), so keys older than a few days can go: ``dynchat.reliable.prune_claims``.
    """

    key = models.CharField(max_length=255, unique=True)
    task_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.key


class DeadLetterQuerySet(models.QuerySet["DeadLetter"]):
    def unresolved(self) -> DeadLetterQuerySet:
        return self.filter(resolved_at=None)


class DeadLetter(models.Model):
    """A background task given up on: it failed for good, or kept killing its worker (poison)."""

    class Resolution(models.TextChoices):
        RETRIED = "retried", "Retried"
        DISCARDED = "discarded", "Discarded"

    task_id = models.CharField(max_length=255, unique=True)
    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder)
    kwargs = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    queue = models.CharField(max_length=200, blank=True, help_text="Where a retry is sent.")
    reason = models.TextField()
    deliveries = models.PositiveIntegerField(help_text="Times a worker got it, retries included.")
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=16, choices=Resolution.choices, blank=True)

    objects = DeadLetterQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["-created_at"],
                condition=models.Q(resolved_at=None),
                name="deadletter_unresolved",
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_name}[{self.task_id}]"

    @property
    def arguments(self) -> str:
        """The arguments as a call would spell them: ``42, window='2024-01'``."""
        return ", ".join(
            [*(repr(value) for value in self.args), *(f"{k}={v!r}" for k, v in self.kwargs.items())]
        )

    def resolve(self, resolution: DeadLetter.Resolution) -> None:
        self.resolved_at = timezone.now()
        self.resolution = resolution
        self.save(update_fields=["resolved_at", "resolution"])
