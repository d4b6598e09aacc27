"""Forms of the Calendar page: which calendar to connect, and the agent's booking rules."""

from __future__ import annotations

import itertools
import re
import zoneinfo
from functools import cache
from typing import Any, cast

from django import forms

from calendars.models import BookingRules, Provider
from dynchat.models import User

WEEKDAYS = (
    ("mon", "Monday"),
    ("tue", "Tuesday"),
    ("wed", "Wednesday"),
    ("thu", "Thursday"),
    ("fri", "Friday"),
    ("sat", "Saturday"),
    ("sun", "Sunday"),
)
BLOCK = re.compile(r"^(\d{1,2}):(\d{2})\s*[-–—]\s*(\d{1,2}):(\d{2})$")
MAX_BLOCKS = 8
TOKENS = (
    "{{lead.firstName}}",
    "{{lead.company}}",
    "{{agent.name}}",
    "{{meeting.start}}",
    "{{meeting.duration}}",
    "{{meeting.video}}",
    "{{meeting.cancel_url}}",
    "{{meeting.reschedule_url}}",
)


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class ConnectForm(forms.Form):
    provider = forms.ChoiceField(choices=Provider.choices)


def minutes(hour: str, minute: str) -> int | None:
    """Minutes since midnight of HH:MM, 24:00 included; None when it is no time of day."""
    h, m = int(hour), int(minute)
    if m > 59 or h > 24 or (h == 24 and m):
        return None
    return h * 60 + m


def parse_blocks(text: str) -> list[list[str]]:
    """Working blocks of one day from "09:00-12:00, 13:00-17:00" (blank: not working), sorted.

    ValidationError for anything that is not a block, a block that ends before it starts, and
    blocks that overlap (blocks that touch, 09:00-12:00 and 12:00-13:00, are fine).
    """
    parts = [part.strip() for part in re.split(r"[,;]", text) if part.strip()]
    if len(parts) > MAX_BLOCKS:
        raise forms.ValidationError(f"At most {MAX_BLOCKS} blocks a day.")
    blocks: list[tuple[int, int]] = []
    for part in parts:
        match = BLOCK.match(part)
        start = minutes(*match.group(1, 2)) if match else None
        end = minutes(*match.group(3, 4)) if match else None
        if start is None or end is None or start >= 24 * 60:
            raise forms.ValidationError(
                f"“{part}” is not a time block; write it like 09:00-17:00 (24-hour clock)."
            )
        if end <= start:
            raise forms.ValidationError(f"The block {part} ends before it starts.")
        blocks.append((start, end))
    blocks.sort()
    for (start, end), (next_start, next_end) in itertools.pairwise(blocks):
        if next_start < end:
            raise forms.ValidationError(
                f"The blocks {clock(start)}-{clock(end)} and {clock(next_start)}-{clock(next_end)}"
                " overlap."
            )
    return [[clock(start), clock(end)] for start, end in blocks]


def clock(total: int) -> str:
    return f"{total // 60:02d}:{total % 60:02d}"


def blocks_text(blocks: list[list[str]]) -> str:
    return ", ".join(f"{start}-{end}" for start, end in blocks)


class RulesForm(forms.Form):
    """Working hours per weekday (several blocks), time zone, meeting length and the invitation."""

    time_zone = forms.ChoiceField(
        label="Time zone", help_text="Your working hours are in this zone."
    )
    duration_minutes = forms.IntegerField(
        label="Meeting length (minutes)", min_value=5, max_value=480
    )
    buffer_minutes = forms.IntegerField(
        label="Buffer after meetings (minutes)", min_value=0, max_value=240
    )
    notice_minutes = forms.IntegerField(
        label="Minimum notice (minutes)",
        min_value=0,
        max_value=60 * 24 * 30,
        help_text="How soon a meeting may start at the earliest; 1440 is one day.",
    )
    horizon_days = forms.IntegerField(
        label="Booking horizon (days)",
        min_value=1,
        max_value=365,
        help_text="How far ahead visitors may book.",
    )
    meeting_title = forms.CharField(label="Meeting title", max_length=200)
    invitation_subject = forms.CharField(label="Invitation subject", max_length=200)
    invitation_body = forms.CharField(
        label="Invitation text", max_length=4000, widget=forms.Textarea(attrs={"rows": 9})
    )
    add_video_link = forms.BooleanField(
        label="Add a video link (Google Meet or Teams) to each meeting", required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = cast(forms.ChoiceField, self.fields["time_zone"])
        zone.choices = time_zone_choices()
        for day, name in WEEKDAYS:
            self.fields[f"hours_{day}"] = forms.CharField(
                label=name,
                required=False,
                max_length=200,
                widget=forms.TextInput(attrs={"placeholder": "not working", "spellcheck": "false"}),
            )

    @classmethod
    def initial_for(cls, agent: User, rules: BookingRules) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "time_zone": agent.time_zone,
            **{name: getattr(rules, name) for name in cls.base_fields if name != "time_zone"},
        }
        for day, _ in WEEKDAYS:
            initial[f"hours_{day}"] = blocks_text(rules.working_hours.get(day, []))
        return initial

    def hour_fields(self) -> list[forms.BoundField]:
        return [self[f"hours_{day}"] for day, _ in WEEKDAYS]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        hours: dict[str, list[list[str]]] = {}
        for day, _ in WEEKDAYS:
            name = f"hours_{day}"
            if name not in cleaned:
                continue  # already refused by the field
            try:
                hours[day] = parse_blocks(cleaned[name])
            except forms.ValidationError as error:
                self.add_error(name, error)
        if len(hours) == len(WEEKDAYS) and not any(hours.values()):
            self.add_error(None, "Give working hours for at least one day.")
        cleaned["working_hours"] = hours
        return cleaned
