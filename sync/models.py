"""Marketo data in Dynchat: the mirror (leads, companies, activities), sync runs and their export
jobs, watermarks, the chosen attributes, and the write-back outbox."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

MAX_ATTRIBUTES = 50


class AttributeObject(models.TextChoices):
    PERSON = "person", "Person"
    COMPANY = "company", "Company"


class SyncedAttributeQuerySet(models.QuerySet["SyncedAttribute"]):
    def of(self, object: AttributeObject) -> SyncedAttributeQuerySet:
        return self.filter(object=object)

    def names(self, object: AttributeObject) -> list[str]:
        return list(self.of(object).order_by("name").values_list("name", flat=True))

    def types(self, object: AttributeObject) -> dict[str, str]:
        return dict(self.of(object).values_list("name", "data_type"))


class SyncedAttribute(models.Model):
    """A person or company field the marketer chose to sync (at most 50 in all)."""

    object = models.CharField(max_length=10, choices=AttributeObject.choices)
    name = models.CharField(max_length=100, help_text="REST API name")
    display_name = models.CharField(max_length=200)
    data_type = models.CharField(max_length=30)
    added_at = models.DateTimeField(default=timezone.now)
    backfilled_at = models.DateTimeField(null=True, blank=True)

    objects = SyncedAttributeQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["object", "name"], name="unique_synced_attribute")
        ]
        ordering = ["object", "display_name"]

    def __str__(self) -> str:
        return f"{self.get_object_display()} {self.display_name}"


class MarketoLeadQuerySet(models.QuerySet["MarketoLead"]):
    def search(self, query: str) -> MarketoLeadQuerySet:
        query = query.strip()
        if not query:
            return self
        matches = models.Q()
        for word in query.split()[:5]:  # "ada lovelace" finds Ada Lovelace
            matches &= (
                models.Q(email__icontains=word)
                | models.Q(first_name__icontains=word)
                | models.Q(last_name__icontains=word)
                | models.Q(company_name__icontains=word)
            )
        return self.filter(matches)


class MarketoLead(models.Model):
    """A Marketo person: typed core columns, and the chosen attributes in ``attributes``."""

    id = models.BigIntegerField(primary_key=True, help_text="Marketo lead id")
    email = models.CharField(max_length=255, blank=True, default="")
    first_name = models.CharField(max_length=255, blank=True, default="")
    last_name = models.CharField(max_length=255, blank=True, default="")
    company_name = models.CharField(max_length=255, blank=True, default="")
    external_company_id = models.CharField(max_length=255, blank=True, default="")
    cookies = ArrayField(models.CharField(max_length=255), default=list, blank=True)
    lead_score = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    objects = MarketoLeadQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(Lower("email"), name="marketolead_email_lower"),
            models.Index(fields=["external_company_id"], name="marketolead_company"),
            GinIndex(fields=["cookies"], name="marketolead_cookies"),
        ]

    def __str__(self) -> str:
        return self.email or f"lead {self.id}"

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class MarketoCompany(models.Model):
    """A Marketo company, linked to its leads by ``external_company_id``."""

    id = models.BigIntegerField(primary_key=True, help_text="Marketo company id")
    external_company_id = models.CharField(max_length=255, unique=True)
    name = models.CharField(max_length=255, blank=True, default="")
    industry = models.CharField(max_length=255, blank=True, default="")
    number_of_employees = models.IntegerField(null=True, blank=True)
    annual_revenue = models.DecimalField(max_digits=20, decimal_places=2, null=True, blank=True)
    billing_country = models.CharField(max_length=255, blank=True, default="")
    updated_at = models.DateTimeField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "Marketo companies"

    def __str__(self) -> str:
        return self.name or self.external_company_id


class MarketoActivity(models.Model):
    """One Marketo activity; write-once, keyed by ``marketoGUID``."""

    marketo_guid = models.CharField(max_length=64, primary_key=True)
    lead_id = models.BigIntegerField()
    activity_date = models.DateTimeField()
    activity_type_id = models.IntegerField()
    campaign_id = models.BigIntegerField(null=True, blank=True)
    primary_attribute_value_id = models.BigIntegerField(null=True, blank=True)
    primary_attribute_value = models.TextField(blank=True, default="")
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name_plural = "Marketo activities"
        indexes = [
            models.Index(fields=["lead_id", "-activity_date"], name="marketoactivity_lead_date")
        ]

    def __str__(self) -> str:
        return f"activity {self.marketo_guid}"


class RunKind(models.TextChoices):
    INITIAL = "initial", "Initial sync"
    INCREMENTAL = "incremental", "Incremental sync"
    BACKFILL = "backfill", "Attribute back-fill"


class RunState(models.TextChoices):
    RUNNING = "running", "Running"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class Phase(models.TextChoices):
    PREPARE = "prepare", "Preparing"
    LEADS = "leads", "Exporting leads"
    COMPANIES = "companies", "Fetching companies"
    ACTIVITIES = "activities", "Exporting activities"
    CHANGES = "changes", "Reading changes"
    DONE = "done", "Done"


class SyncRunQuerySet(models.QuerySet["SyncRun"]):
    def active(self) -> SyncRunQuerySet:
        return self.filter(state__in=[RunState.RUNNING, RunState.PAUSED])

    def completed_initial(self) -> SyncRun | None:
        """The initial sync that ran to the end (incremental sync starts from it), if any."""
        return self.filter(kind=RunKind.INITIAL, state=RunState.COMPLETED).first()

    def latest_initial(self) -> SyncRun | None:
        return self.filter(kind=RunKind.INITIAL).order_by("-started_at").first()

    def due(self) -> SyncRunQuerySet:
        """Runs a worker should pick up now: running and unleased, or paused past their time."""
        now = timezone.now()
        running = models.Q(state=RunState.RUNNING) & (
            models.Q(lease_until__isnull=True) | models.Q(lease_until__lt=now)
        )
        resumable = models.Q(state=RunState.PAUSED, paused_until__lte=now)
        return self.filter(running | resumable)


class SyncRun(models.Model):
    """One initial, incremental or back-fill sync, with its progress and lease."""

    kind = models.CharField(max_length=12, choices=RunKind.choices)
    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.RUNNING)
    phase = models.CharField(max_length=12, choices=Phase.choices, default=Phase.PREPARE)
    leads_since = models.DateTimeField(null=True, blank=True)
    activities_since = models.DateTimeField(null=True, blank=True)
    lead_fields = models.JSONField(default=list, blank=True)
    company_fields = models.JSONField(default=list, blank=True)
    progress = models.JSONField(default=dict, blank=True)
    companies_cursor = models.CharField(max_length=255, blank=True, default="")
    changes_token = models.TextField(blank=True, default="")
    errors = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    paused_until = models.DateTimeField(null=True, blank=True)
    pause_reason = models.CharField(max_length=200, blank=True, default="")
    lease_owner = models.CharField(max_length=64, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = SyncRunQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            # At most one initial/back-fill and one incremental run at a time.
            models.UniqueConstraint(
                fields=["kind"],
                condition=models.Q(state__in=["running", "paused"]),
                name="one_active_run_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"

    def counter(self, phase: str) -> dict[str, Any]:
        return dict(self.progress.get(phase) or {"done": 0, "expected": None})

    def complete(self) -> None:
        self.state, self.phase, self.finished_at = RunState.COMPLETED, Phase.DONE, timezone.now()
        self.save(update_fields=["state", "phase", "finished_at", "updated_at"])

    @property
    def duration(self) -> timedelta:
        return (self.finished_at or timezone.now()) - self.started_at


class JobStatus(models.TextChoices):
    PENDING = "pending", "Waiting"
    CREATED = "created", "Created"
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Ready to download"
    DOWNLOADED = "downloaded", "Downloaded"
    LOADED = "loaded", "Loaded"


IN_FLIGHT = [JobStatus.CREATED, JobStatus.QUEUED, JobStatus.PROCESSING]


class ExportJob(models.Model):
    """A Marketo bulk export of one window; its id is persisted so a restart reuses the job."""

    class Object(models.TextChoices):
        LEADS = "leads", "Leads"
        ACTIVITIES = "activities", "Activities"

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="jobs")
    object = models.CharField(max_length=10, choices=Object.choices)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    export_id = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.PENDING)
    records = models.BigIntegerField(null=True, blank=True)
    file_size = models.BigIntegerField(null=True, blank=True)
    checksum = models.CharField(max_length=100, blank=True, default="")
    rows_loaded = models.BigIntegerField(default=0)
    failures = models.PositiveIntegerField(default=0)
    polled_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["object", "window_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "object", "window_start"], name="one_job_per_window"
            )
        ]

    def __str__(self) -> str:
        return f"{self.object} {self.window_start:%Y-%m-%d}…{self.window_end:%Y-%m-%d}"


class Watermark(models.Model):
    """How far incremental sync has read a stream (a Marketo paging token); moves only on commit."""

    name = models.CharField(max_length=50, primary_key=True)
    token = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class OutboxKind(models.TextChoices):
    PUSH_LEAD = "push_lead", "Push lead"
    ACTIVITY = "activity", "Custom activity"
    PROGRAM_STATUS = "program_status", "Program member status"


class OutboxState(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class OutboxQuerySet(models.QuerySet["OutboxMessage"]):
    def ready(self, kind: OutboxKind) -> OutboxQuerySet:
        now = timezone.now()
        return self.filter(kind=kind, state=OutboxState.PENDING, next_attempt_at__lte=now)

    def counts(self) -> dict[str, int]:
        rows = self.values("state").annotate(n=models.Count("id")).values_list("state", "n")
        return dict.fromkeys(OutboxState.values, 0) | dict(rows)


class OutboxMessage(models.Model):
    """Something Marketo must hear about, written in the same transaction as the change."""

    kind = models.CharField(max_length=16, choices=OutboxKind.choices)
    key = models.CharField(max_length=200, unique=True, null=True, blank=True)
    email = models.CharField(max_length=255)
    payload = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=OutboxState.choices, default="pending")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_error = models.TextField(blank=True, default="")
    marketo_id = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = OutboxQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(
                fields=["kind", "next_attempt_at"],
                condition=models.Q(state="pending"),
                name="outbox_pending",
            ),
            models.Index(Lower("email"), name="outbox_email_lower"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.email}"


class CustomActivityType(models.Model):
    """The Marketo custom activity types Dynchat writes, with the ids Marketo gave them."""

    api_name = models.CharField(max_length=100, primary_key=True)
    marketo_id = models.IntegerField()
    attributes = models.JSONField(default=list)

    def __str__(self) -> str:
        return self.api_name


class ErasedSubject(models.Model):
    """A person whose data was erased on request: the sync must not bring their data back.

    Only a SHA-256 of the lower-cased, trimmed e-mail is kept (dialogues.privacy makes it).
    """

    email_hash = models.CharField(max_length=64, unique=True)
    lead_ids = ArrayField(
        models.BigIntegerField(),
        default=list,
        blank=True,
        help_text="The Marketo lead ids the person had: their activities are not imported again.",
    )
    erased_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"erased {self.email_hash[:12]}"
