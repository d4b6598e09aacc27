"""The Meetings page's filters: agent, status, dates (in the viewer's zone), dialogue, e-mail."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from dynchat.models import Role, User
from meetings.models import Meeting, MeetingQuerySet, MeetingStatus

STATUS_CHOICES = [("", "Any status")] + [
    (value, label) for value, label in MeetingStatus.choices if value != MeetingStatus.HELD
]


class MeetingFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=254, label="Search by e-mail")
    agent = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Agent")
    status = forms.ChoiceField(required=False, choices=STATUS_CHOICES, label="Status")
    dialogue = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, label="Dialogue"
    )
    start = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def __init__(self, data: Any, *, viewer: User) -> None:
        super().__init__(data)
        self.viewer = viewer
        visible = Meeting.objects.visible_to(viewer)
        agents = User.objects.filter(role=Role.AGENT).order_by("name", "email")
        cast(forms.TypedChoiceField, self.fields["agent"]).choices = [("", "Any agent")] + [
            (user.pk, user.name or user.email) for user in agents
        ]
        dialogues = (
            visible.filter(dialogue__isnull=False)
            .values_list("dialogue_id", "dialogue__name")
            .order_by("dialogue__name")
            .distinct()
        )
        cast(forms.TypedChoiceField, self.fields["dialogue"]).choices = [("", "Any dialogue")] + [
            (pk, name) for pk, name in dialogues
        ]
        if not viewer.is_marketer:
            del self.fields["agent"]  # agents only ever see their own

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "The end date is before the start date.")
        return cleaned

    def valid_data(self) -> dict[str, Any]:
        if not self.is_bound:
            return {}
        self.is_valid()
        return dict(self.cleaned_data)

    def filter(self, meetings: MeetingQuerySet) -> MeetingQuerySet:
        """The meetings matching the valid filters (invalid ones are ignored, and shown)."""
        data = self.valid_data()
        if query := (data.get("q") or "").strip():
            meetings = meetings.filter(lead_email__icontains=query)
        if agent := data.get("agent"):
            meetings = meetings.filter(agent_id=agent)
        if status := data.get("status"):
            meetings = meetings.filter(status=status)
        if dialogue := data.get("dialogue"):
            meetings = meetings.filter(dialogue_id=dialogue)
        if start := data.get("start"):
            meetings = meetings.filter(starts_at__gte=local_midnight(start))
        if end := data.get("end"):
            meetings = meetings.filter(starts_at__lt=local_midnight(end + timedelta(days=1)))
        return meetings

    def query_string(self) -> str:
        """The active filters as URL parameters ending in "&" (for pagination and CSV links)."""
        params = {
            name: value.isoformat() if isinstance(value, date) else str(value)
            for name, value in self.valid_data().items()
            if value not in (None, "")
        }
        return f"{urlencode(params)}&" if params else ""

    @property
    def active(self) -> bool:
        return bool(self.query_string())


def local_midnight(day: date) -> datetime:
    """The start of ``day`` in the viewer's zone (the one the request activated)."""
    return timezone.make_aware(datetime.combine(day, time()), timezone.get_current_timezone())
