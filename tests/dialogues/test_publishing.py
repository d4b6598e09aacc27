"""Publishing freezes an immutable version; what visitors get follows it at once (cache)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dialogues import services
from dialogues.models import DialogueStatus, Goal, ImmutableVersion
from dynchat.models import Site
from sync.models import AttributeObject, SyncedAttribute
from sync.services import SyncRefused, remove_attribute
from tests.conftest import ALLOWED_ORIGIN
from tests.dialogues.factories import flow, new_dialogue


def shown(client: Client, site: Site) -> Any:
    params = {"site": site.key, "url": f"{ALLOWED_ORIGIN}/pricing"}
    return client.get(reverse("widget:decide"), params, headers={"Origin": ALLOWED_ORIGIN}).json()


def test_publishing_freezes_version_one_and_visitors_get_it_at_once(
    client: Client, site: Site
) -> None:
    dialogue = new_dialogue(site)
    assert shown(client, site)["dialogue"] is None  # cached: nothing published yet
    version = services.publish(dialogue)
    dialogue.refresh_from_db()
    assert (version.number, dialogue.status, dialogue.live_version) == (
        1,
        DialogueStatus.PUBLISHED,
        version,
    )
    assert version.flow == dialogue.flow
    assert shown(client, site)["dialogue"]["version"] == version.pk


def test_a_published_version_cannot_change(site: Site) -> None:
    version = services.publish(new_dialogue(site))
    version.flow = flow("Changed")
    with pytest.raises(ImmutableVersion):
        version.save()


def test_republishing_without_changes_keeps_the_version_and_with_changes_adds_one(
    site: Site,
) -> None:
    dialogue = new_dialogue(site)
    first = services.publish(dialogue)
    assert services.publish(dialogue) == first
    services.save_flow(dialogue, flow("Hello again!"))
    second = services.publish(dialogue)
    assert (second.number, second.flow["cards"]["hello"]["text"]) == (2, "Hello again!")
    assert list(dialogue.versions.values_list("number", flat=True)) == [2, 1]


def test_a_dialogue_with_problems_is_not_published(site: Site) -> None:
    dialogue = services.create_dialogue(site=site, name="Broken", flow=flow(), targeting={})
    services.save_flow(
        dialogue,
        {
            "version": 1,
            "start": "a",
            "cards": {"a": {"type": "message", "text": "x", "next": None}},
        },
    )
    with pytest.raises(services.PublishRefused) as refused:
        services.publish(dialogue)
    codes = {(p.card, p.code) for p in refused.value.problems}
    assert ("a", "dead_end") in codes
    assert (None, "targeting") in codes
    dialogue.refresh_from_db()
    assert (dialogue.status, dialogue.live_version) == (DialogueStatus.DRAFT, None)


def test_unpublishing_stops_new_visitors_at_once(client: Client, site: Site) -> None:
    dialogue = new_dialogue(site)
    services.publish(dialogue)
    assert shown(client, site)["dialogue"] is not None
    services.unpublish(dialogue)
    assert shown(client, site)["dialogue"] is None


def test_the_kill_switch_hides_published_dialogues_at_once(client: Client, site: Site) -> None:
    services.publish(new_dialogue(site))
    assert shown(client, site)["outcome"] == "show"
    site.set_chat_enabled(False)
    answer = shown(client, site)
    assert (answer["enabled"], answer["outcome"], answer["dialogue"]) == (False, "none", None)
    site.set_chat_enabled(True)
    assert shown(client, site)["outcome"] == "show"


def test_marketer_rich_text_is_sanitised_on_save_and_publish(site: Site) -> None:
    dialogue = new_dialogue(site)
    services.save_flow(
        dialogue,
        flow(
            '<b>Hi</b> <script>alert(1)</script><a href="javascript:alert(1)">x</a>'
            '<img src=x onerror=alert(1)><a href="https://example.com">ok</a>'
        ),
    )
    text = dialogue.flow["cards"]["hello"]["text"]
    for dangerous in ("<script", "onerror", "javascript:"):
        assert dangerous not in text
    assert text.startswith("<b>Hi</b>")
    assert '<a rel="noopener noreferrer nofollow">x</a>' in text
    assert 'href="https://example.com"' in text
    version = services.publish(dialogue)
    assert version.flow["cards"]["hello"]["text"] == text


def test_publishing_records_the_goals_of_the_site(site: Site) -> None:
    services.publish(new_dialogue(site))
    other = new_dialogue(site, name="Other")
    services.save_flow(other, flow(goal="said hello"))
    services.publish(other)
    assert list(Goal.objects.filter(site=site).values_list("name", flat=True)) == ["Said hello"]


def test_a_synced_attribute_used_by_a_dialogue_cannot_be_removed(site: Site) -> None:
    title = SyncedAttribute.objects.create(
        object=AttributeObject.PERSON, name="title", display_name="Job Title", data_type="string"
    )
    industry = SyncedAttribute.objects.create(
        object=AttributeObject.COMPANY, name="industry", display_name="Industry", data_type="string"
    )
    similar = SyncedAttribute.objects.create(
        object=AttributeObject.PERSON, name="titl", display_name="Titl", data_type="string"
    )
    dialogue = new_dialogue(site, name="Titles")
    services.save_flow(dialogue, flow('Hello {{lead.title:"friend"}}'))
    with pytest.raises(SyncRefused, match="Titles"):
        remove_attribute(attribute=title)
    remove_attribute(attribute=similar)  # "titl" is a prefix of "title", not a use of it
    remove_attribute(attribute=industry)
    assert not SyncedAttribute.objects.filter(pk=industry.pk).exists()
