"""The Meetings page as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

from dynchat.spreadsheet import safe_cell
from meetings.models import Meeting

HEADER = [
    "Lead email",
    "Lead name",
    "Agent",
    "Agent email",
    "Dialogue",
    "Start",
    "Time zone",
    "Duration (minutes)",
    "Status",
    "Took place",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def meeting_row(meeting: Meeting, zone: ZoneInfo) -> list[str]:
    start = meeting.starts_at.astimezone(zone)
    took_place = meeting.took_place
    return [
        meeting.lead_email,
        meeting.lead_name,
        meeting.agent.name,
        meeting.agent.email,
        meeting.dialogue.name if meeting.dialogue else "",
        start.strftime("%Y-%m-%d %H:%M"),
        zone.key,
        str(meeting.duration_minutes),
        meeting.get_status_display(),
        "" if took_place is None else ("yes" if took_place else "no"),
    ]


def csv_lines(meetings: Iterable[Meeting], zone: ZoneInfo) -> Iterator[str]:
    """The header and one line per meeting, times in the viewer's zone, every cell escaped."""
    writer = csv.writer(_Echo())
    yield writer.writerow(HEADER)
    for meeting in meetings:
        yield writer.writerow([safe_cell(cell) for cell in meeting_row(meeting, zone)])
