"""Ready-made dialogues a marketer can start from (pure data, no ORM).

Each template is a valid flow that needs only the core lead fields, and a default targeting; the
pages it targets are filled in from the site's origins when a dialogue is created from it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dialogues.models import blank_flow, default_targeting

BLANK = "blank"


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    description: str
    flow: dict[str, Any]
    paths: tuple[str, ...] = ("/*",)
    audience: tuple[dict[str, Any], ...] = ()

    def targeting(self, origins: Iterable[str]) -> dict[str, Any]:
        """The default targeting on the site's ``origins`` (e.g. ``https://example.com/*``)."""
        include = [f"{origin.rstrip('/')}{path}" for origin in origins for path in self.paths]
        return {
            **default_targeting(),
            "include": include[:20],
            "audience": copy.deepcopy(list(self.audience)),
        }


QUALIFY = Template(
    key="qualify",
    name="Qualify and book a demo",
    description="Asks what brings the visitor, takes their email and books a demo with sales.",
    paths=("/pricing*", "/demo*"),
    flow={
        "version": 1,
        "start": "ask",
        "cards": {
            "ask": {
                "type": "question",
                "text": 'Hi {{lead.firstName:"there"}}! Would you like to see a demo?',
                "field": None,
                "answers": [
                    {"id": "a1", "label": "Yes, book a demo", "value": "demo", "next": "email"},
                    {"id": "a2", "label": "Just browsing", "value": "browsing", "next": "bye"},
                ],
            },
            "email": {
                "type": "capture",
                "input": "email",
                "prompt": "Great! What is your work email?",
                "placeholder": "name@company.com",
                "field": "email",
                "skip_if_known": True,
                "overwrite": False,
                "next": "book",
            },
            "book": {
                "type": "meeting",
                "routing": "round_robin",
                "agent": None,
                "text": "Pick a time that suits you.",
                "next": "goal",
            },
            "goal": {"type": "goal", "goal": "Demo booked", "next": "end"},
            "end": {"type": "end"},
            "bye": {
                "type": "message",
                "text": "No problem, take your time. We are here if you have questions.",
                "next": "bye_end",
            },
            "bye_end": {"type": "end"},
        },
    },
)

CAPTURE_EMAIL = Template(
    key="capture_email",
    name="Capture email",
    description="Offers updates and takes the visitor's email address.",
    flow={
        "version": 1,
        "start": "hello",
        "cards": {
            "hello": {
                "type": "message",
                "text": "Want our best articles in your inbox once a month?",
                "next": "email",
            },
            "email": {
                "type": "capture",
                "input": "email",
                "prompt": "Your email address",
                "placeholder": "name@company.com",
                "field": "email",
                "skip_if_known": True,
                "overwrite": False,
                "next": "goal",
            },
            "goal": {"type": "goal", "goal": "Email captured", "next": "end"},
            "end": {"type": "end"},
        },
    },
)

WELCOME = Template(
    key="welcome",
    name="Anonymous visitor welcome",
    description="Greets visitors Marketo does not know yet and asks what they are looking for.",
    audience=(
        {
            "match": "all",
            "conditions": [{"attribute": "lead.email", "operator": "is_empty", "value": ""}],
        },
    ),
    flow={
        "version": 1,
        "start": "hello",
        "cards": {
            "hello": {
                "type": "message",
                "text": 'Welcome, {{lead.firstName:"there"}}!',
                "next": "ask",
            },
            "ask": {
                "type": "question",
                "text": "What brings you here today?",
                "field": None,
                "answers": [
                    {"id": "a1", "label": "Pricing", "value": "pricing", "next": "end"},
                    {"id": "a2", "label": "Product features", "value": "features", "next": "end"},
                    {"id": "a3", "label": "Just looking", "value": "looking", "next": "end"},
                ],
            },
            "end": {"type": "end"},
        },
    },
)

BLANK_TEMPLATE = Template(key=BLANK, name="Blank", description="", flow=blank_flow())
TEMPLATES: dict[str, Template] = {t.key: t for t in (QUALIFY, CAPTURE_EMAIL, WELCOME)}
CHOICES = [(BLANK, "Blank"), *((t.key, t.name) for t in TEMPLATES.values())]


def starting_point(key: str, origins: Iterable[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The flow and targeting a new dialogue starts with: blank or a template's."""
    template = TEMPLATES.get(key, BLANK_TEMPLATE)
    return copy.deepcopy(template.flow), template.targeting(origins)
