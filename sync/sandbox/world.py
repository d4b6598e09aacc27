"""The sandbox's Marketo instance: leads, companies, the activity stream, types and programs.

Everything here is guarded by ``World.lock``; callers hold it for one operation at a time.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

from sync.sandbox.activities import Activity, ActivityStream
from sync.sandbox.activity_gen import ActivityGenerator
from sync.sandbox.activity_types import STANDARD_TYPES
from sync.sandbox.clock import DAY, Clock
from sync.sandbox.companies import CompanyStore
from sync.sandbox.config import Dataset
from sync.sandbox.custom_types import CustomTypes
from sync.sandbox.fields import LEAD_FIELD
from sync.sandbox.generate import Companies, People, Timeline
from sync.sandbox.leads import LeadStore
from sync.sandbox.programs import Program, Programs, Status

API_SOURCE = "Web service API"


def change_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class World:
    def __init__(self, dataset: Dataset, clock: Clock) -> None:
        self.dataset, self.clock = dataset, clock
        end = dataset.end or datetime.now(UTC)
        self.end = int(end.timestamp())
        lead_span = int(dataset.lead_days * DAY)
        lead_times = Timeline(dataset.leads, self.end - lead_span, lead_span)
        company_times = Timeline(dataset.companies, self.end - lead_span - 365 * DAY, 365 * DAY)
        activity_span = int(dataset.activity_days * DAY)
        activity_times = Timeline(dataset.activities, self.end - activity_span, activity_span)
        company_generator = Companies(dataset.companies, dataset.seed, company_times)
        self.companies = CompanyStore(company_generator)
        self.people = People(dataset.leads, dataset.seed, lead_times, company_generator)
        self.leads = LeadStore(self.people, self.companies)
        self.stream = ActivityStream(
            ActivityGenerator(dataset.activities, dataset.seed, activity_times, lead_times)
        )
        self.custom_types = CustomTypes(created=self.end - 400 * DAY)
        self.programs = Programs()
        self.lock = threading.RLock()
        self.mutations = 0

    def now(self) -> float:
        """The time written changes carry: never before the generated data's end."""
        return max(self.clock.now(), float(self.end))

    # Activities that writes leave in the stream

    def record(self, lead_id: int, type_id: int, now: float, **values: Any) -> Activity:
        stamp = int(now)
        return self.stream.add(
            lead_id=lead_id, type_id=type_id, date=stamp, recorded=stamp, **values
        )

    def record_new_lead(self, lead_id: int, now: float, source: str = API_SOURCE) -> Activity:
        attributes = (("Source Type", source), ("Lead Source", source))
        return self.record(lead_id, 12, now, attributes=attributes)

    def record_changes(
        self, lead_id: int, changes: list[tuple[str, Any, Any]], now: float, reason: str
    ) -> list[Activity]:
        written = []
        for name, old, new in changes:
            if name in ("updatedAt", "createdAt"):
                continue
            field = LEAD_FIELD[name]
            old_text, new_text = change_text(old), change_text(new)
            attributes = tuple(
                (k, v)
                for k, v in (
                    ("New Value", new_text),
                    ("Old Value", old_text),
                    ("Reason", reason),
                    ("Source", API_SOURCE),
                )
                if v is not None
            )
            change = {"id": field.id, "name": name, "newValue": new_text, "oldValue": old_text}
            written.append(
                self.record(
                    lead_id,
                    13,
                    now,
                    value_id=field.id,
                    value=field.display,
                    attributes=attributes,
                    changes=(change,),
                )
            )
        return written

    def record_status(
        self, lead_id: int, program: Program, old: Status | None, new: Status, now: float
    ) -> Activity:
        attributes = (
            ("Old Status", old.name if old else "Not in Program"),
            ("New Status", new.name),
            ("New Status ID", new.step),
            ("Success", new.success),
            ("Acquired By", old is None),
            ("Program Member ID", program.id * 1_000_000 + lead_id),
        )
        return self.record(
            lead_id, 104, now, value_id=program.id, value=program.name, attributes=attributes
        )

    # Types

    def activity_types(self) -> set[int]:
        """Ids of the standard types and of the approved custom ones."""
        with self.lock:
            custom = {t["id"] for t in self.custom_types.describe_standard()}
        return set(STANDARD_TYPES) | custom
