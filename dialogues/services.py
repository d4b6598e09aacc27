"""What marketers do to dialogues: create, edit, publish, unpublish, delete.

Every interface (builder views, the demo, tests) goes through these functions.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max

from dialogues import live
from dialogues.flow import Problem
from dialogues.models import (
    Dialogue,
    DialogueStatus,
    DialogueVersion,
    Goal,
    blank_flow,
    default_targeting,
)
from dialogues.richtext import sanitize_flow
from dialogues.targeting import (
    Trigger,
    audience_problems,
    pattern_list_problems,
    trigger_problems,
)
from dialogues.validation import INFERRED_FIELDS, attributes_used, validate
from dynchat.models import Site, User
from sync.fields import COMPANY_CORE, LEAD_CORE
from sync.models import AttributeObject, SyncedAttribute

TARGETING_PROBLEM = "targeting"


class PublishRefused(Exception):
    """The dialogue has problems; ``problems`` say which, card by card."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) stop publishing")
        self.problems = problems


@dataclass(frozen=True)
class Fields:
    """The lead and company fields a site's dialogues may read and write (Marketo REST names)."""

    lead: frozenset[str]
    company: frozenset[str]

    @property
    def for_flow(self) -> frozenset[str]:
        """As the validator names them: ``firstName``, ``company.industry``."""
        return self.lead | {f"company.{name}" for name in self.company}

    @property
    def for_audience(self) -> frozenset[str]:
        """As audiences name them: ``lead.firstName``, ``company.industry``, ``inferred.city``."""
        return frozenset(
            {f"lead.{name}" for name in self.lead}
            | {f"company.{name}" for name in self.company}
            | {f"inferred.{name}" for name in INFERRED_FIELDS}
        )


def known_fields() -> Fields:
    """The core fields every sync reads plus the attributes the marketer chose to sync."""
    lead = set(LEAD_CORE) - {"id", "cookies"}
    company = set(COMPANY_CORE) - {"id"}
    for object, name in SyncedAttribute.objects.values_list("object", "name"):
        (lead if object == AttributeObject.PERSON else company).add(name)
    return Fields(frozenset(lead), frozenset(company))


def targeting_problems(targeting: Mapping[str, Any], fields: Fields) -> dict[str, list[str]]:
    """What stops this targeting from being published, by part: ``include``, ``exclude``,
    ``audience`` and ``trigger`` (each an empty list when that part is fine)."""
    include = targeting.get("include") or []
    exclude = targeting.get("exclude") or []
    trigger = targeting.get("trigger") or {}
    none = [] if include else ["Add at least one target page, e.g. https://www.example.com/*."]
    kind, amount = trigger.get("kind"), trigger.get("amount", 0)  # checked by trigger_problems
    return {
        "include": none + [f"Target pages: {p}" for p in pattern_list_problems(include)],
        "exclude": [f"Excluded pages: {p}" for p in pattern_list_problems(exclude)],
        "audience": audience_problems(targeting.get("audience") or [], fields.for_audience),
        "trigger": trigger_problems(Trigger(kind, amount)),  # type: ignore[arg-type]
    }


def problems(dialogue: Dialogue, fields: Fields | None = None) -> list[Problem]:
    """Every problem that stops publishing: the flow's on their cards, targeting's on none."""
    fields = fields or known_fields()
    found = validate(dialogue.flow, known_fields=fields.for_flow)
    found += [
        Problem(None, TARGETING_PROBLEM, text)
        for part in targeting_problems(dialogue.targeting, fields).values()
        for text in part
    ]
    return found


@transaction.atomic
def create_dialogue(
    *,
    site: Site,
    name: str,
    description: str = "",
    priority: int = 1,
    flow: Mapping[str, Any] | None = None,
    targeting: Mapping[str, Any] | None = None,
    user: User | None = None,
) -> Dialogue:
    """A new draft, blank or from a template's flow and targeting."""
    return Dialogue.objects.create(
        site=site,
        name=name,
        description=description,
        priority=priority,
        flow=sanitize_flow(copy.deepcopy(dict(flow)) if flow is not None else blank_flow()),
        targeting=dict(targeting) if targeting is not None else default_targeting(),
        created_by=user,
    )


def save_flow(dialogue: Dialogue, flow: Mapping[str, Any]) -> Dialogue:
    """Save the draft flow (rich text sanitised); problems are reported, not refused."""
    dialogue.flow = sanitize_flow(copy.deepcopy(dict(flow)))
    dialogue.save(update_fields=["flow", "updated_at"])
    return dialogue


def save_targeting(dialogue: Dialogue, targeting: Mapping[str, Any]) -> Dialogue:
    dialogue.targeting = {**default_targeting(), **targeting}
    dialogue.save(update_fields=["targeting", "updated_at"])
    return dialogue


def save_details(dialogue: Dialogue, *, name: str, description: str, priority: int) -> Dialogue:
    dialogue.name, dialogue.description, dialogue.priority = name, description, priority
    dialogue.save(update_fields=["name", "description", "priority", "updated_at"])
    if dialogue.status == DialogueStatus.PUBLISHED:
        live.forget(dialogue.site.key)  # the name shows in decisions
    return dialogue


@transaction.atomic
def publish(dialogue: Dialogue, *, user: User | None = None) -> DialogueVersion:
    """Freeze the draft into a new version that unengaged visitors get from now on.

    Publishing an unchanged, published dialogue returns its live version. Refused with
    ``PublishRefused`` while the flow or the targeting has problems.
    """
    dialogue = Dialogue.objects.select_for_update().select_related("site").get(pk=dialogue.pk)
    found = problems(dialogue)
    if found:
        raise PublishRefused(found)
    current = dialogue.live_version
    if (
        current is not None
        and dialogue.status == DialogueStatus.PUBLISHED
        and not dialogue.has_unpublished_changes
    ):
        return current
    number = (dialogue.versions.aggregate(top=Max("number"))["top"] or 0) + 1
    version = DialogueVersion.objects.create(
        dialogue=dialogue,
        number=number,
        flow=sanitize_flow(copy.deepcopy(dialogue.flow)),
        targeting=copy.deepcopy(dialogue.targeting),
        priority=dialogue.priority,
        published_by=user,
    )
    goals = {c["goal"] for c in dialogue.flow["cards"].values() if c.get("type") == "goal"}
    for goal in goals:
        if not Goal.objects.filter(site=dialogue.site, name__iexact=goal).exists():
            Goal.objects.create(site=dialogue.site, name=goal)
    dialogue.status = DialogueStatus.PUBLISHED
    dialogue.live_version = version
    dialogue.save(update_fields=["status", "live_version", "updated_at"])
    live.forget(dialogue.site.key)
    return version


@transaction.atomic
def unpublish(dialogue: Dialogue) -> Dialogue:
    """Stop showing the dialogue to new visitors; engaged ones still finish it."""
    dialogue.status = DialogueStatus.UNPUBLISHED
    dialogue.save(update_fields=["status", "updated_at"])
    live.forget(dialogue.site.key)
    return dialogue


@transaction.atomic
def delete_dialogue(dialogue: Dialogue) -> None:
    site_key = dialogue.site.key
    dialogue.delete()
    live.forget(site_key)


def attribute_users(object: str, name: str) -> list[str]:
    """Names of the dialogues whose draft or live version reads or writes this attribute."""
    prefix = "lead" if object == AttributeObject.PERSON else "company"
    attribute = f"{prefix}.{name}"
    users = []
    for dialogue in Dialogue.objects.select_related("live_version").order_by("name"):
        drafts = [(dialogue.flow, dialogue.targeting)]
        if (live_version := dialogue.live_version) is not None:
            drafts.append((live_version.flow, live_version.targeting))
        if any(attribute in attributes_used(flow, targeting) for flow, targeting in drafts):
            users.append(f"the dialogue “{dialogue.name}”")
    return users
