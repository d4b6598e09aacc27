"""Programs, their channels' progression statuses, and program membership."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sync.sandbox.clock import iso
from sync.sandbox.errors import ApiError


@dataclass(frozen=True)
class Status:
    name: str
    step: int
    success: bool = False


@dataclass(frozen=True)
class Program:
    id: int
    name: str
    description: str
    channel: str
    type: str
    statuses: tuple[Status, ...]

    def status(self, name: str) -> Status:
        for status in self.statuses:
            if status.name.lower() == name.lower():
                return status
        raise ApiError("1025", f"Program status '{name}' not found for channel '{self.channel}'")

    def rest(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "createdAt": "2023-01-09T17:00:00Z",
            "updatedAt": "2023-01-09T17:00:00Z",
            "url": f"https://app-sandbox.marketo.example/#PG{self.id}A1",
            "type": self.type,
            "channel": self.channel,
            "folder": {"type": "Folder", "value": 42, "folderName": "Programs"},
            "status": "",
            "workspace": "Default",
            "tags": [],
            "costs": None,
        }


_CHAT = (
    Status("Not in Program", 0),
    Status("Engaged", 10),
    Status("Influenced", 20),
    Status("Meeting Booked", 30, success=True),
)
_WEBINAR = (
    Status("Not in Program", 0),
    Status("Invited", 10),
    Status("Registered", 20),
    Status("No Show", 30),
    Status("Attended", 40, success=True),
    Status("Attended On-demand", 50, success=True),
)
PROGRAMS = (
    Program(
        1001,
        "Dynchat",
        "Leads captured and engaged in website chat",
        "Dynchat Chat",
        "Default",
        _CHAT,
    ),
    Program(
        1002,
        "Website Chat",
        "Website chat conversations (legacy)",
        "Dynchat Chat",
        "Default",
        _CHAT,
    ),
    Program(
        1003,
        "Q3 Roadmap Webinar",
        "Quarterly product roadmap webinar",
        "Webinar",
        "Event",
        _WEBINAR,
    ),
)


@dataclass
class Membership:
    status: Status
    membership_date: int
    reached_success: bool
    acquired_by: bool


class Programs:
    def __init__(self) -> None:
        self.by_id = {program.id: program for program in PROGRAMS}
        self.members: dict[tuple[int, int], Membership] = {}

    def get(self, program_id: int) -> Program:
        try:
            return self.by_id[program_id]
        except KeyError:
            raise ApiError("1013", f"Program '{program_id}' not found") from None

    def by_name(self, name: str) -> Program:
        for program in PROGRAMS:
            if program.name == name:
                return program
        raise ApiError("1013", f"Program '{name}' not found")

    def set_status(
        self, program: Program, lead_id: int, status: Status, now: float
    ) -> tuple[str, Status | None]:
        """Move a lead to ``status``: ("created" | "updated" | "skipped", previous status)."""
        key = (program.id, lead_id)
        current = self.members.get(key)
        if current is None:
            self.members[key] = Membership(status, int(now), status.success, acquired_by=False)
            return "created", None
        if status.step <= current.status.step:
            return "skipped", current.status
        previous = current.status
        current.status = status
        current.reached_success = current.reached_success or status.success
        return "updated", previous

    def member_view(self, program: Program, lead_id: int, fields: list[str]) -> dict[str, Any]:
        member = self.members[(program.id, lead_id)]
        values: dict[str, Any] = {
            "leadId": lead_id,
            "programId": program.id,
            "membershipDate": iso(member.membership_date),
            "reachedSuccess": member.reached_success,
            "acquiredBy": member.acquired_by,
            "statusName": member.status.name,
            "progressionStatus": member.status.name,
            "progressionStatusType": "Success" if member.status.success else "Engagement",
            "isExhausted": False,
        }
        return {name: values.get(name) for name in fields}
