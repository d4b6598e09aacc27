"""Leads: generated ones, changes to them, and leads created through the API or ``mutate``."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from math import ceil
from typing import Any

from sync.sandbox.clock import iso, parse_datetime
from sync.sandbox.companies import CompanyStore
from sync.sandbox.fields import INHERITED, LEAD_NAMES
from sync.sandbox.generate import MAX_UPDATE_LAG, People, company_id_from_external

INDEXED = ("email", "cookies", "externalCompanyId")
DEFAULTS = {
    "doNotCall": False,
    "unsubscribed": False,
    "emailInvalid": False,
    "marketingSuspended": False,
    "isAnonymous": False,
}


def _key(field: str, value: object) -> str:
    return str(value).lower() if field == "email" else str(value)


class LeadStore:
    def __init__(self, people: People, companies: CompanyStore) -> None:
        self.people, self.companies = people, companies
        self.base = people.count
        self.overrides: dict[int, dict[str, Any]] = {}  # changed fields of generated leads
        self.added: dict[int, dict[str, Any]] = {}  # whole records of later leads
        self.created_at: dict[int, int] = {}  # of added leads
        self.updated_at: dict[int, int] = {}  # of changed and added leads
        self.index: dict[str, dict[str, set[int]]] = {field: {} for field in INDEXED}
        self.next_id = self.base + 1

    def count(self) -> int:
        return self.base + len(self.added)

    def ids(self) -> Iterator[int]:
        yield from range(1, self.base + 1)
        yield from list(self.added)

    def exists(self, i: int) -> bool:
        return 1 <= i <= self.base or i in self.added

    def get(self, i: int) -> dict[str, Any] | None:
        if 1 <= i <= self.base:
            lead = self.people.base(i)
            changes = self.overrides.get(i)
            if changes:
                lead.update(changes)
            elif not self.companies.overrides:
                return lead
        elif i in self.added:
            lead = dict(self.added[i])
        else:
            return None
        self._inherit(lead)
        return lead

    def _inherit(self, lead: dict[str, Any]) -> None:
        """A lead linked to a company shows the company's current values."""
        external = lead.get("externalCompanyId")
        j = self.companies.id_for_external(str(external)) if external else None
        if j is None:
            return
        company = self.companies.get(j)
        if company is not None:
            for name in INHERITED:
                lead[name] = company.get(name)

    def value(self, i: int, field: str) -> Any:
        lead = self.get(i)
        return None if lead is None else lead.get(field)

    def find(self, filter_type: str, values: Iterable[str]) -> list[int]:
        """Ids of the leads whose ``filter_type`` field equals one of ``values``, ascending."""
        found: set[int] = set()
        for raw in values:
            value = raw.strip()
            if filter_type == "id":
                if value.isdigit() and self.exists(int(value)):
                    found.add(int(value))
                continue
            candidates = set(self.index[filter_type].get(_key(filter_type, value), ()))
            candidates.update(
                i for i in self._generated_candidates(filter_type, value) if i <= self.base
            )
            wanted = _key(filter_type, value)
            found.update(
                i
                for i in candidates
                if (v := self.value(i, filter_type)) is not None and _key(filter_type, v) == wanted
            )
        return sorted(found)

    def _generated_candidates(self, filter_type: str, value: str) -> Iterable[int]:
        if filter_type == "email":
            return self.people.ids_for_email(value)
        if filter_type == "cookies":
            return self.people.ids_for_cookie(value)
        j = company_id_from_external(value)
        return self.people.ids_of_company(j) if j is not None else ()

    def created_between(self, start: float, end: float) -> Iterator[int]:
        yield from self.people.timeline.ids_between(start, end)
        for i, created in list(self.created_at.items()):
            if start <= created <= end:
                yield i

    def updated_between(self, start: float, end: float) -> list[int]:
        """Ids of leads whose last update falls in [start, end], ascending."""
        found = [
            i
            for i in self.people.timeline.ids_between(start - MAX_UPDATE_LAG, end)
            if i not in self.updated_at and start <= self.people.base_times(i)[1] <= end
        ]
        found += [i for i, updated in self.updated_at.items() if start <= updated <= end]
        return sorted(found)

    def updated_timestamp(self, i: int) -> float:
        if i in self.updated_at:
            return self.updated_at[i]
        return float(self.people.base_times(i)[1])

    def update(self, i: int, changes: dict[str, Any], now: float) -> list[tuple[str, Any, Any]]:
        """Apply ``changes`` to lead ``i``: (field, old, new) for each value that changed."""
        current = self.get(i)
        if current is None:
            raise KeyError(i)
        changed = [(k, current.get(k), v) for k, v in changes.items() if current.get(k) != v]
        if not changed:
            return []
        stamp = ceil(now)
        update = {k: new for k, _, new in changed} | {"updatedAt": iso(stamp)}
        if i in self.added:
            self.added[i] = {**self.added[i], **update}
        else:
            self.overrides[i] = {**self.overrides.get(i, {}), **update}
        self.updated_at[i] = stamp
        for field, old, new in changed:
            if field in self.index:
                self._unindex(field, old, i)
                self._index(field, new, i)
        return changed

    def create(self, values: dict[str, Any], now: float) -> int:
        i = self.next_id
        self.next_id += 1
        stamp = ceil(now)
        record: dict[str, Any] = dict.fromkeys(LEAD_NAMES)
        record.update(DEFAULTS)
        record.update(values)
        record.update(id=i, createdAt=iso(stamp), updatedAt=iso(stamp))
        self.added[i] = record
        self.created_at[i] = self.updated_at[i] = stamp
        for field in INDEXED:
            self._index(field, record.get(field), i)
        return i

    def _index(self, field: str, value: object, i: int) -> None:
        if value:
            self.index[field].setdefault(_key(field, value), set()).add(i)

    def _unindex(self, field: str, value: object, i: int) -> None:
        if value:
            self.index[field].get(_key(field, value), set()).discard(i)


def created_timestamp(lead: dict[str, Any]) -> float:
    return parse_datetime(str(lead["createdAt"]))[0]
