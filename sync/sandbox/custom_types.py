"""Custom activity types: created as drafts, approved before use, at most 10 per instance."""

from __future__ import annotations

import copy
import re
from typing import Any

from sync.sandbox.clock import iso
from sync.sandbox.errors import ApiError

MAX_TYPES = 10
MAX_ATTRIBUTES = 20
FIRST_ID = 100_001
ATTRIBUTE_TYPES = frozenset(
    {
        "string",
        "boolean",
        "integer",
        "float",
        "link",
        "email",
        "currency",
        "date",
        "datetime",
        "phone",
        "text",
    }
)
_API_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,254}")


class CustomTypes:
    def __init__(self, created: float) -> None:
        self.types: dict[str, dict[str, Any]] = {}  # apiName -> {"draft", "approved", "id"}
        self.create(
            {
                "apiName": "attendTradeShow",
                "name": "Attend Trade Show",
                "description": "Visited the booth at a trade show",
                "triggerName": "Attends Trade Show",
                "filterName": "Attended Trade Show",
                "primaryAttribute": {
                    "apiName": "showName",
                    "name": "Show Name",
                    "description": "Name of the show",
                },
            },
            created,
        )
        self.add_attributes(
            "attendTradeShow",
            [{"apiName": "boothVisited", "name": "Booth Visited", "dataType": "boolean"}],
            created,
        )
        self.approve("attendTradeShow", created)

    def create(self, body: dict[str, Any], now: float) -> dict[str, Any]:
        missing = [
            k
            for k in ("apiName", "name", "triggerName", "filterName", "primaryAttribute")
            if not body.get(k)
        ]
        if missing:
            raise ApiError("701", f"{missing[0]} cannot be blank")
        api_name = str(body["apiName"])
        if not _API_NAME.fullmatch(api_name):
            raise ApiError("1003", f"Invalid apiName '{api_name}'")
        if api_name in self.types:
            raise ApiError("1017", f"Activity type '{api_name}' already exists")
        for other in self.types.values():
            current = other["approved"] or other["draft"]
            for key in ("name", "triggerName", "filterName"):
                if current[key] == body[key]:
                    raise ApiError("1017", f"{key} '{body[key]}' is already used")
        if len(self.types) >= MAX_TYPES:
            raise ApiError("1027", "Maximum number of custom activity types reached")
        primary = dict(body["primaryAttribute"])
        if not primary.get("apiName") or not primary.get("name"):
            raise ApiError("701", "primaryAttribute apiName and name cannot be blank")
        primary.setdefault("description", "")
        primary["dataType"] = primary.get("dataType") or "string"
        draft = {
            "id": FIRST_ID + len(self.types),
            "apiName": api_name,
            "name": body["name"],
            "description": body.get("description", ""),
            "triggerName": body["triggerName"],
            "filterName": body["filterName"],
            "createdAt": iso(now),
            "updatedAt": iso(now),
            "primaryAttribute": primary,
            "attributes": [],
        }
        self.types[api_name] = {"draft": draft, "approved": None}
        return self.view(api_name, draft=True)

    def _entry(self, api_name: str) -> dict[str, Any]:
        try:
            return self.types[api_name]
        except KeyError:
            raise ApiError("1013", f"Activity type '{api_name}' not found") from None

    def status(self, api_name: str) -> str:
        entry = self._entry(api_name)
        if entry["approved"] is None:
            return "draft"
        return "approved with draft" if entry["draft"] is not None else "approved"

    def view(self, api_name: str, *, draft: bool = False) -> dict[str, Any]:
        entry = self._entry(api_name)
        version = entry["draft"] if draft or entry["approved"] is None else entry["approved"]
        if version is None:
            version = entry["approved"]
        return {**copy.deepcopy(version), "status": self.status(api_name)}

    def listing(self) -> list[dict[str, Any]]:
        result = []
        for api_name in self.types:
            item = self.view(api_name)
            item.pop("attributes", None)
            item.pop("primaryAttribute", None)
            result.append(item)
        return result

    def add_attributes(self, api_name: str, attributes: Any, now: float) -> dict[str, Any]:
        entry = self._entry(api_name)
        if not isinstance(attributes, list) or not attributes:
            raise ApiError("701", "attributes cannot be blank")
        draft = entry["draft"] or copy.deepcopy(entry["approved"])
        known = {a["apiName"] for a in draft["attributes"]}
        for attribute in attributes:
            if not isinstance(attribute, dict) or not attribute.get("apiName"):
                raise ApiError("701", "attribute apiName cannot be blank")
            if attribute.get("dataType") not in ATTRIBUTE_TYPES:
                raise ApiError("1003", f"Invalid dataType '{attribute.get('dataType')}'")
            if attribute["apiName"] in known:
                raise ApiError("1017", f"Attribute '{attribute['apiName']}' already exists")
            known.add(attribute["apiName"])
        if len(known) > MAX_ATTRIBUTES:
            raise ApiError("1028", "Maximum number of custom activity attributes reached")
        for attribute in attributes:
            draft["attributes"].append(
                {
                    "apiName": attribute["apiName"],
                    "name": attribute.get("name") or attribute["apiName"],
                    "description": attribute.get("description", ""),
                    "dataType": attribute["dataType"],
                }
            )
        draft["updatedAt"] = iso(now)
        entry["draft"] = draft
        return self.view(api_name, draft=True)

    def approve(self, api_name: str, now: float) -> dict[str, Any]:
        entry = self._entry(api_name)
        if entry["draft"] is None:
            raise ApiError("709", f"Activity type '{api_name}' has no draft to approve")
        entry["approved"], entry["draft"] = entry["draft"], None
        entry["approved"]["updatedAt"] = iso(now)
        return self.view(api_name)

    def approved_by_id(self, type_id: int) -> dict[str, Any] | None:
        for entry in self.types.values():
            if entry["approved"] is not None and entry["approved"]["id"] == type_id:
                approved: dict[str, Any] = entry["approved"]
                return approved
        return None

    def describe_standard(self) -> list[dict[str, Any]]:
        """Approved custom types as types.json lists them (with their apiName)."""
        result = []
        for entry in self.types.values():
            version = entry["approved"]
            if version is None:
                continue
            primary = version["primaryAttribute"]
            result.append(
                {
                    "id": version["id"],
                    "name": version["name"],
                    "apiName": version["apiName"],
                    "description": version["description"],
                    "primaryAttribute": {"name": primary["name"], "dataType": primary["dataType"]},
                    "attributes": [
                        {"name": a["name"], "dataType": a["dataType"]}
                        for a in version["attributes"]
                    ],
                }
            )
        return result
