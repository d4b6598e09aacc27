"""Companies: generated ones, changes to them, and companies created through the API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sync.sandbox.clock import iso
from sync.sandbox.generate import Companies, company_id_from_external


class CompanyStore:
    def __init__(self, generator: Companies) -> None:
        self.generator = generator
        self.base = generator.count
        self.overrides: dict[int, dict[str, Any]] = {}
        self.added: dict[int, dict[str, Any]] = {}
        self.by_external: dict[str, int] = {}  # companies created through the API
        self._by_name: dict[str, list[int]] | None = None
        self.next_id = self.base + 1

    def count(self) -> int:
        return self.base + len(self.added)

    def ids(self) -> Iterator[int]:
        yield from range(1, self.base + 1)
        yield from list(self.added)

    def get(self, j: int) -> dict[str, Any] | None:
        if 1 <= j <= self.base:
            company = self.generator.base(j)
            changes = self.overrides.get(j)
            if changes:
                company.update(changes)
            return company
        added = self.added.get(j)
        return dict(added) if added is not None else None

    def id_for_external(self, external: str) -> int | None:
        j = self.by_external.get(external)
        if j is not None:
            return j
        j = company_id_from_external(external)
        return j if j is not None and 1 <= j <= self.base else None

    def find(self, filter_type: str, value: str) -> list[int]:
        if filter_type in ("id", "idField"):
            return [int(value)] if value.strip().isdigit() and self.get(int(value)) else []
        if filter_type in ("externalCompanyId", "dedupeFields"):
            j = self.id_for_external(value)
            return [j] if j is not None else []
        if self._by_name is None:
            index: dict[str, list[int]] = {}
            for j in range(1, self.base + 1):
                index.setdefault(self.generator.base(j)["company"], []).append(j)
            self._by_name = index
        found = [j for j in self._by_name.get(value, []) if j not in self.overrides]
        found += [j for j, c in self.overrides.items() if c.get("company") == value]
        found += [j for j, c in self.added.items() if c.get("company") == value]
        return sorted(j for j in set(found) if (self.get(j) or {}).get("company") == value)

    def update(self, j: int, changes: dict[str, Any], now: float) -> dict[str, Any]:
        """Apply ``changes``; returns the company as it is now."""
        current = self.get(j)
        if current is None:
            raise KeyError(j)
        stamp = {**changes, "updatedAt": iso(now)}
        if j in self.added:
            self.added[j] = {**self.added[j], **stamp}
        else:
            self.overrides[j] = {**self.overrides.get(j, {}), **stamp}
        return {**current, **stamp}

    def create(self, values: dict[str, Any], now: float) -> int:
        j = self.next_id
        self.next_id += 1
        record: dict[str, Any] = {"id": j, "externalCompanyId": None, "company": None}
        record.update(values)
        record.update(createdAt=iso(now), updatedAt=iso(now))
        self.added[j] = record
        if record.get("externalCompanyId"):
            self.by_external[str(record["externalCompanyId"])] = j
        return j

    def changed(self, j: int) -> bool:
        return j in self.overrides
