"""The activity stream: generated activities 1..M, then every activity written since, in order.

A position in the stream is an activity id; paging tokens carry one. The stream's time is the
activity date for generated activities and the moment of writing for later ones (custom
activities may carry an older ``activityDate`` of their own).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from math import ceil
from typing import Any

from sync.sandbox.activity_gen import BASE_TYPES, ActivityGenerator
from sync.sandbox.clock import iso


@dataclass(frozen=True, slots=True)
class Activity:
    id: int
    lead_id: int
    date: int  # activityDate, epoch seconds
    recorded: int  # when it entered the stream
    type_id: int
    campaign_id: int | None = None
    value_id: int | None = None
    value: str | None = None
    attributes: tuple[tuple[str, Any], ...] = ()
    changes: tuple[dict[str, Any], ...] = field(default=())

    def rest(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": self.id,
            "marketoGUID": str(self.id),
            "leadId": self.lead_id,
            "activityDate": iso(self.date),
            "activityTypeId": self.type_id,
        }
        if self.campaign_id is not None:
            item["campaignId"] = self.campaign_id
        if self.value_id is not None:
            item["primaryAttributeValueId"] = self.value_id
        if self.value is not None:
            item["primaryAttributeValue"] = self.value
        item["attributes"] = [{"name": name, "value": value} for name, value in self.attributes]
        return item

    def csv_row(self) -> tuple[str, ...]:
        def cell(x: object) -> str:
            return "null" if x is None else str(x)

        attributes = json.dumps(dict(self.attributes), separators=(",", ":"))
        return (
            str(self.id),
            str(self.lead_id),
            iso(self.date),
            str(self.type_id),
            cell(self.campaign_id),
            cell(self.value_id),
            cell(self.value),
            attributes,
            "succeeded",
        )


class ActivityStream:
    def __init__(self, generator: ActivityGenerator) -> None:
        self.generator = generator
        self.base = generator.count
        self.added: list[Activity] = []
        self._recorded: list[int] = []  # stream times of ``added``, never decreasing
        self._type_counts: dict[int, int] | None = None

    @property
    def last_id(self) -> int:
        return self.base + len(self.added)

    def base_activity(self, k: int) -> Activity:
        lead, date, type_id, v = self.generator.parts(k)
        return Activity(
            k,
            lead,
            date,
            date,
            type_id,
            v.campaign_id,
            v.value_id,
            v.value,
            v.attributes,
            v.changes,
        )

    def get(self, k: int) -> Activity | None:
        if 1 <= k <= self.base:
            return self.base_activity(k)
        if self.base < k <= self.last_id:
            return self.added[k - self.base - 1]
        return None

    def type_of(self, k: int) -> int:
        return (
            self.generator.type_of(k) if k <= self.base else self.added[k - self.base - 1].type_id
        )

    def position_at(self, moment: float) -> int:
        """The first id whose stream time is at or after ``moment``."""
        first = self.generator.timeline.count_by(ceil(moment) - 1) + 1
        if first <= self.base:
            return first
        return self.base + 1 + bisect.bisect_left(self._recorded, moment)

    def add(self, **values: Any) -> Activity:
        recorded = max(values.pop("recorded"), self._recorded[-1] if self._recorded else 0)
        activity = Activity(id=self.last_id + 1, recorded=recorded, **values)
        self.added.append(activity)
        self._recorded.append(recorded)
        return activity

    def scan(
        self,
        position: int,
        accept: Callable[[int], bool],
        keep: Callable[[Activity], bool] | None,
        limit: int,
        block: int,
        base_types: Collection[int] | None,
    ) -> tuple[list[Activity], int]:
        """Walk at most ``block`` activities from ``position``; keep up to ``limit`` of them.

        ``accept`` decides by type id, ``keep`` (optional) by the whole activity. ``base_types``:
        the accepted types, when known, so a walk for types that no generated activity has
        skips the generated part at once. Returns (activities, next position).
        """
        if position <= self.base and base_types is not None and not BASE_TYPES & set(base_types):
            position = self.base + 1
        found: list[Activity] = []
        end = min(self.last_id, position + block - 1)
        k = position
        while k <= end and len(found) < limit:
            if accept(self.type_of(k)):
                activity = self.get(k)
                if activity is not None and (keep is None or keep(activity)):
                    found.append(activity)
            k += 1
        return found, k

    def base_ids_between(self, start: float, end: float) -> range:
        return self.generator.timeline.ids_between(start, end)

    def added_between(self, start: float, end: float) -> list[Activity]:
        return [a for a in self.added if start <= a.date <= end]

    def count(self, type_ids: Collection[int] | None, since: float | None) -> int:
        types = None if type_ids is None else frozenset(type_ids)
        added = sum(
            1
            for a in self.added
            if (types is None or a.type_id in types) and (since is None or a.date >= since)
        )
        first = 1 if since is None else self.generator.timeline.count_by(ceil(since) - 1) + 1
        if types is None:
            return added + max(0, self.base - first + 1)
        if first == 1:
            counts = self._base_type_counts()
            return added + sum(counts.get(t, 0) for t in types)
        type_of = self.generator.type_of
        return added + sum(1 for k in range(first, self.base + 1) if type_of(k) in types)

    def _base_type_counts(self) -> dict[int, int]:
        if self._type_counts is None:
            counts: dict[int, int] = {}
            type_of = self.generator.type_of
            for k in range(1, self.base + 1):
                t = type_of(k)
                counts[t] = counts.get(t, 0) + 1
            self._type_counts = counts
        return self._type_counts

    def guids(self, type_ids: Collection[int] | None) -> Iterator[str]:
        types = None if type_ids is None else frozenset(type_ids)
        type_of = self.generator.type_of
        for k in range(1, self.base + 1):
            if types is None or type_of(k) in types:
                yield str(k)
        for activity in list(self.added):
            if types is None or activity.type_id in types:
                yield str(activity.id)
