"""Forms of the Marketo page: the attributes to sync, and how far back the initial sync reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django import forms
from django.utils import timezone

from sync.models import MAX_ATTRIBUTES, AttributeObject
from sync.services import Attribute

ACTIVITY_DAYS = (30, 60, 90, 120, 180, 365)
DEFAULT_ACTIVITY_DAYS = 120
DEFAULT_LEAD_YEARS = 2


@dataclass(frozen=True)
class Option:
    attribute: Attribute
    checked: bool

    @property
    def id(self) -> str:
        return f"attribute-{self.attribute.object}-{self.attribute.name}"


@dataclass(frozen=True)
class Group:
    label: str
    options: list[Option]


def years_ago(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


class AttributesForm(forms.Form):
    """Person and company fields to sync, out of ``offered``; at most ``room`` of them."""

    attributes = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Marketo does not offer the field %(value)s (any more)."},
    )

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        offered: Sequence[Attribute],
        room: int = MAX_ATTRIBUTES,
        require: bool = False,
    ) -> None:
        super().__init__(data)
        self.offered = list(offered)
        self.room = room
        field = cast(forms.MultipleChoiceField, self.fields["attributes"])
        field.choices = [(attribute.key, attribute.display_name) for attribute in self.offered]
        field.required = require
        field.error_messages["required"] = "Choose at least one attribute."

    def clean_attributes(self) -> list[str]:
        keys: list[str] = self.cleaned_data["attributes"]
        if len(keys) > self.room:
            raise forms.ValidationError(
                f"Choose at most {self.room} attributes; {len(keys)} are chosen."
                if self.room == MAX_ATTRIBUTES
                else f"Only {self.room} more can be synced (at most {MAX_ATTRIBUTES} in all); "
                f"{len(keys)} are chosen."
            )
        return keys

    def chosen(self) -> list[Attribute]:
        keys = set(self.cleaned_data["attributes"])
        return [attribute for attribute in self.offered if attribute.key in keys]

    def selected_keys(self) -> set[str]:
        value = self["attributes"].value() or []
        return {str(key) for key in value}

    def groups(self) -> list[Group]:
        """The offered fields by object (Person, then Company), each marked if chosen."""
        selected = self.selected_keys()
        return [
            Group(
                label,
                [
                    Option(attribute, attribute.key in selected)
                    for attribute in self.offered
                    if attribute.object == object
                ],
            )
            for object, label in AttributeObject.choices
        ]


class InitialSyncForm(AttributesForm):
    """The fields to sync and how far back leads and activities are read."""

    leads_since = forms.DateField(
        label="Leads created since",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Leads created before this day are not mirrored.",
    )
    activities_days = forms.TypedChoiceField(
        label="Activities from the last",
        choices=[(days, f"{days} days") for days in ACTIVITY_DAYS],
        coerce=int,
        initial=DEFAULT_ACTIVITY_DAYS,
        help_text="Web visits, form fills, email engagement and the like.",
    )

    def __init__(self, data: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        today = timezone.localdate()
        self.fields["leads_since"].initial = years_ago(today, DEFAULT_LEAD_YEARS)
        self.fields["leads_since"].widget.attrs["max"] = today.isoformat()

    def clean_leads_since(self) -> date:
        day: date = self.cleaned_data["leads_since"]
        if day > timezone.localdate():
            raise forms.ValidationError("Choose a day that is not in the future.")
        return day

    def leads_since_datetime(self) -> datetime:
        """The chosen day's start in the viewer's time zone."""
        return timezone.make_aware(datetime.combine(self.cleaned_data["leads_since"], time.min))

    def activities_since(self) -> datetime:
        return timezone.now() - timedelta(days=self.cleaned_data["activities_days"])
