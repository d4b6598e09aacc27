"""Dialogues as the builder makes them, for the builder's tests."""

from __future__ import annotations

from typing import Any

from dialogues import library, services
from dialogues.models import Dialogue
from dynchat.models import Site


def from_template(site: Site, key: str = "capture_email", **fields: Any) -> Dialogue:
    flow, targeting = library.starting_point(key, site.allowed_origins)
    name = fields.pop("name", library.TEMPLATES[key].name)
    return services.create_dialogue(site=site, name=name, flow=flow, targeting=targeting, **fields)
