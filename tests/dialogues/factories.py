"""Dialogues for tests: a small valid flow, and dialogues made as the builder makes them."""

from __future__ import annotations

from typing import Any

from dialogues import library, services
from dialogues.models import Dialogue
from dynchat.models import Site
from tests.conftest import ALLOWED_ORIGIN


def from_template(site: Site, key: str = "capture_email", **fields: Any) -> Dialogue:
    flow, targeting = library.starting_point(key, site.allowed_origins)
    name = fields.pop("name", library.TEMPLATES[key].name)
    return services.create_dialogue(site=site, name=name, flow=flow, targeting=targeting, **fields)


TARGETING = {
    "include": [f"{ALLOWED_ORIGIN}/*"],
    "exclude": [],
    "audience": [],
    "trigger": {"kind": "immediately", "amount": 0},
}


def flow(text: str = "Hello!", goal: str = "Said hello") -> dict[str, Any]:
    return {
        "version": 1,
        "start": "hello",
        "cards": {
            "hello": {"type": "message", "text": text, "next": "goal"},
            "goal": {"type": "goal", "goal": goal, "next": "end"},
            "end": {"type": "end"},
        },
    }


def new_dialogue(site: Site, **fields: Any) -> Dialogue:
    return services.create_dialogue(
        site=site, name=fields.pop("name", "Welcome"), flow=flow(), targeting=TARGETING, **fields
    )
