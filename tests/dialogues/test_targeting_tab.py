"""The Targeting tab: pages, audience, trigger and priority, each problem next to its field."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from dialogues import services
from dynchat.models import Site
from tests.conftest import ALLOWED_ORIGIN
from tests.dialogues.factories import from_template


def test_the_targeting_form_saves_pages_audience_trigger_and_priority(
    marketer_client: Client, site: Site
) -> None:
    dialogue = from_template(site)
    url = reverse("dialogues:targeting", args=[dialogue.pk])
    typed = {
        "name": "Newsletter", "description": "", "priority": "4",
        "include": f"{ALLOWED_ORIGIN}/blog/*\n{ALLOWED_ORIGIN}/news/*\n",
        "exclude": f"{ALLOWED_ORIGIN}/blog/private", "trigger_kind": "scroll",
        "trigger_amount": "50", "group_count": "0",
    }  # fmt: skip
    added = marketer_client.post(url, {**typed, "op": "add-group"}).content.decode()
    assert 'name="group-0-attribute"' in added
    assert "<legend>Group 1</legend>" in added
    assert 'value="remove-group:0"' in added
    assert "/news/*" in added
    response = marketer_client.post(
        url,
        {**typed, "group_count": "1", "group-0-match": "all",
         "group-0-attribute": "lead.email", "group-0-operator": "is_empty", "group-0-value": "",
         "op": "save"},
    )  # fmt: skip
    assert response.status_code == 302
    dialogue.refresh_from_db()
    assert dialogue.targeting == {
        "include": [f"{ALLOWED_ORIGIN}/blog/*", f"{ALLOWED_ORIGIN}/news/*"],
        "exclude": [f"{ALLOWED_ORIGIN}/blog/private"],
        "audience": [
            {"match": "all", "conditions": [
                {"attribute": "lead.email", "operator": "is_empty", "value": ""}]}
        ],
        "trigger": {"kind": "scroll", "amount": 50},
    }  # fmt: skip
    assert (dialogue.name, dialogue.priority) == ("Newsletter", 4)


def test_targeting_problems_show_next_to_their_fields(marketer_client: Client, site: Site) -> None:
    dialogue = from_template(site)
    services.save_targeting(dialogue, {"include": ["javascript:alert(1)"]})
    html = marketer_client.get(reverse("dialogues:targeting", args=[dialogue.pk])).content.decode()
    pages = html.split("<legend>Pages</legend>", 1)[1].split("</fieldset>", 1)[0]
    assert "Target pages:" in pages


def test_agents_may_read_but_not_save_targeting(agent_client: Client, site: Site) -> None:
    dialogue = from_template(site)
    url = reverse("dialogues:targeting", args=[dialogue.pk])
    assert "disabled" in agent_client.get(url).content.decode()
    agent_client.post(url, {"name": "Hijacked", "priority": "1", "trigger_kind": "immediately"})
    dialogue.refresh_from_db()
    assert dialogue.name != "Hijacked"
