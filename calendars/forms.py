"""Forms of the Calendar page: which calendar to connect, and the agent's booking rules."""

from __future__ import annotations

import itertools
import re
import zoneinfo
from datetime import date
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
MAX_OVERRIDES = 100
OVERRIDE = re.compile(r"^([^:]*):(.*)$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
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


def parse_overrides(text: str) -> dict[str, list[list[str]]]:
    """Date overrides, one a line: "2026-12-24: off" or "2026-12-31: 09:00-12:00, 13:00-15:00",
    as ``{"2026-12-24": [], "2026-12-31": [["09:00", "12:00"], ["13:00", "15:00"]]}`` by date.

    ValidationError naming every line that is not a date with blocks or "off", a date given twice,
    and more than MAX_OVERRIDES lines. Past dates are kept; they no longer matter.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_OVERRIDES:
        raise forms.ValidationError(f"At most {MAX_OVERRIDES} date overrides.")
    overrides: dict[str, list[list[str]]] = {}
    errors: list[str] = []
    for line in lines:
        match = OVERRIDE.match(line)
        if match is None:
            errors.append(f"“{line}”: write a date and its hours, like 2026-12-31: 09:00-12:00.")
            continue
        day, hours = match[1].strip(), match[2].strip()
        try:
            if not ISO_DATE.match(day):
                raise ValueError(day)
            key = date.fromisoformat(day).isoformat()
        except ValueError:
            errors.append(f"“{day}” is not a date; write it like 2026-12-24.")
            continue
        if key in overrides:
            errors.append(f"{key} is given twice.")
            continue
        if hours.lower() == "off":
            overrides[key] = []
            continue
        if not hours:
            errors.append(f"{key}: give blocks like 09:00-12:00, or “off” for a day off.")
            continue
        try:
            overrides[key] = parse_blocks(hours)
        except forms.ValidationError as error:
            errors.extend(f"{key}: {message}" for message in error.messages)
    if errors:
        raise forms.ValidationError(errors)
    return dict(sorted(overrides.items()))


def overrides_text(overrides: object) -> str:
    """Stored date overrides in the form's format, by date (anything malformed left out)."""
    if not isinstance(overrides, dict):
        return ""
    lines = []
    for day, blocks in sorted(overrides.items()):
        if not isinstance(blocks, list) or not all(
            isinstance(block, list) and len(block) == 2 for block in blocks
        ):
            continue
        lines.append(f"{day}: {blocks_text(blocks) if blocks else 'off'}")
    return "\n".join(lines)


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
    date_overrides = forms.CharField(
        label="Date overrides",
        required=False,
        max_length=MAX_OVERRIDES * 120,
        widget=forms.Textarea(
            attrs={
                "rows": 4,
                "spellcheck": "false",
                "placeholder": "2026-12-24: off\n2026-12-31: 09:00-12:00",
            }
        ),
        help_text="One date a line with its hours instead of the weekday's, or “off”.",
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
        initial["date_overrides"] = overrides_text(rules.date_overrides)
        return initial

    def hour_fields(self) -> list[forms.BoundField]:
        return [self[f"hours_{day}"] for day, _ in WEEKDAYS]

    def clean_date_overrides(self) -> dict[str, list[list[str]]]:
        return parse_overrides(self.cleaned_data.get("date_overrides") or "")

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
