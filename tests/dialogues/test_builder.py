"""The dialogue builder in the admin: list, create, edit cards, publish, versions."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dialogues import library, services
from dialogues.models import Dialogue, DialogueStatus, DialogueVersion, SiteAlert
from dynchat.models import Site
from tests.conftest import ALLOWED_ORIGIN
from tests.dialogues.factories import from_template

HTMX = {"HX-Request": "true"}


def card_html(html: str, card_id: str) -> str:
    return html.split(f'id="card-{card_id}"', 1)[1].split("</li>", 1)[0]


def test_the_list_shows_each_dialogues_status_priority_and_live_version(
    agent_client: Client, site: Site
) -> None:
    live = from_template(site, name="Live one", priority=2)
    services.publish(live)
    from_template(site, "welcome", name="Draft one", priority=3)
    html = agent_client.get(reverse("dialogues:list")).content.decode()
    assert "Live one" in html
    assert "Draft one" in html
    assert 'badge-ok">Published<' in html
    assert '<span class="badge">Draft</span>' in html
    assert "<td>P2</td>" in html
    assert "<td>P3</td>" in html
    assert "<td>v1</td>" in html
    assert "Unpublished changes" not in html
    assert "Chat on" in html
    assert reverse("dialogues:create") not in html  # agents read, marketers edit


def test_the_list_shows_unpublished_changes_and_the_kill_switch_to_marketers(
    marketer_client: Client, site: Site
) -> None:
    dialogue = from_template(site)
    services.publish(dialogue)
    services.save_flow(dialogue, library.QUALIFY.flow)
    site.set_chat_enabled(False)
    html = marketer_client.get(reverse("dialogues:list")).content.decode()
    assert "Unpublished changes" in html
    assert "Chat off" in html
    assert reverse("widget:site-detail", args=[site.pk]) in html


def test_the_list_picks_the_site_and_keeps_the_empty_state(
    marketer_client: Client, site: Site
) -> None:
    other = Site.objects.create(name="Site B", allowed_origins=["https://b.example"])
    from_template(other, name="Only on B")
    html = marketer_client.get(reverse("dialogues:list"), {"site": site.pk}).content.decode()
    assert "No dialogues yet" in html
    assert "Only on B" not in html
    html = marketer_client.get(reverse("dialogues:list"), {"site": other.pk}).content.decode()
    assert "Only on B" in html
    assert "Site B" in html


def test_an_open_alert_shows_until_a_marketer_dismisses_it(
    marketer_client: Client, agent_client: Client, site: Site
) -> None:
    alert = SiteAlert.objects.create(
        site=site, kind=SiteAlert.Kind.LEAD_BURST, message="312 leads in 5 minutes"
    )
    assert "312 leads in 5 minutes" in agent_client.get(reverse("dialogues:list")).content.decode()
    url = reverse("dialogues:alert-dismiss", args=[alert.pk])
    assert agent_client.post(url).status_code == 403
    assert marketer_client.post(url).status_code == 302
    alert.refresh_from_db()
    assert alert.resolved_at is not None
    assert "312 leads" not in marketer_client.get(reverse("dialogues:list")).content.decode()


def test_a_marketer_creates_a_dialogue_from_a_template_on_the_sites_pages(
    marketer_client: Client, site: Site
) -> None:
    response = marketer_client.post(
        reverse("dialogues:create"),
        {"name": "Newsletter", "description": "", "priority": 2, "site": site.pk,
         "template": "capture_email"},
    )  # fmt: skip
    dialogue = Dialogue.objects.get(name="Newsletter")
    assert response["Location"] == reverse("dialogues:builder", args=[dialogue.pk])
    assert dialogue.flow == library.CAPTURE_EMAIL.flow
    assert dialogue.targeting["include"] == [f"{ALLOWED_ORIGIN}/*"]
    assert (dialogue.priority, dialogue.status) == (2, DialogueStatus.DRAFT)


def test_a_blank_dialogue_starts_with_one_end_card(marketer_client: Client, site: Site) -> None:
    marketer_client.post(
        reverse("dialogues:create"),
        {"name": "Blank", "priority": 1, "site": site.pk, "template": "blank"},
    )
    assert Dialogue.objects.get(name="Blank").flow["cards"] == {"welcome": {"type": "end"}}


def test_agents_read_the_builder_without_any_controls(agent_client: Client, site: Site) -> None:
    dialogue = from_template(site)
    html = agent_client.get(reverse("dialogues:builder", args=[dialogue.pk])).content.decode()
    assert "Want our best articles" in html
    assert reverse("dialogues:card-add", args=[dialogue.pk]) not in html
    assert reverse("dialogues:publish", args=[dialogue.pk]) not in html
    edit = reverse("dialogues:card-edit", args=[dialogue.pk, "hello"])
    assert agent_client.post(edit, {"text": "Hijacked"}).status_code == 403
    assert agent_client.post(reverse("dialogues:publish", args=[dialogue.pk])).status_code == 403
    dialogue.refresh_from_db()
    assert dialogue.flow["cards"]["hello"]["text"] != "Hijacked"


def test_the_builder_shows_cards_in_flow_order_with_answers_nested(
    marketer_client: Client, site: Site
) -> None:
    dialogue = from_template(site, "qualify")
    html = marketer_client.get(reverse("dialogues:builder", args=[dialogue.pk])).content.decode()
    order = [html.index(f'id="card-{card}"') for card in ("ask", "email", "book", "goal", "bye")]
    assert order == sorted(order)
    assert 'class="fb-line fb-via depth-1"' in html
    assert "Answer “Just browsing”" in html
    assert "Books with the next agent in the round robin" in card_html(html, "book")


def test_editing_a_message_saves_its_text(marketer_client: Client, site: Site) -> None:
    dialogue = from_template(site)
    url = reverse("dialogues:card-edit", args=[dialogue.pk, "hello"])
    form = marketer_client.get(url, headers=HTMX).content.decode()
    assert 'name="text"' in form
    assert "<html" not in form
    response = marketer_client.post(url, {"text": "Monthly tips?", "op": "save"}, headers=HTMX)
    assert "Monthly tips?" in response.content.decode()
    dialogue.refresh_from_db()
    assert dialogue.flow["cards"]["hello"] == {
        "type": "message", "text": "Monthly tips?", "next": "email",
    }  # fmt: skip


def test_without_javascript_an_edit_redirects_back_to_the_builder(
    marketer_client: Client, site: Site
) -> None:
    dialogue = from_template(site)
    url = reverse("dialogues:card-edit", args=[dialogue.pk, "goal"])
    response = marketer_client.post(url, {"goal": "Subscribed", "op": "save"})
    assert response["Location"] == reverse("dialogues:builder", args=[dialogue.pk])
    dialogue.refresh_from_db()
    assert dialogue.flow["cards"]["goal"]["goal"] == "Subscribed"
    page = marketer_client.get(reverse("dialogues:builder", args=[dialogue.pk]), {"edit": "goal"})
    assert 'name="goal"' in page.content.decode()


def test_a_question_gains_and_loses_answers_in_its_editor(
    marketer_client: Client, site: Site
) -> None:
    dialogue = from_template(site, "welcome")
    url = reverse("dialogues:card-edit", args=[dialogue.pk, "ask"])
    rows = {
        "text": "What brings you?",
        "field": "",
        "answer_id": ["a1", "a2", "a3"],
        "answer_label": ["Pricing", "Features", "Looking"],
        "answer_value": ["pricing", "", "looking"],
    }
    response = marketer_client.post(url, {**rows, "op": "add-answer"}, headers=HTMX)
    assert response.content.decode().count('name="answer_label"') == 4
    dialogue.refresh_from_db()
    answers = dialogue.flow["cards"]["ask"]["answers"]
    assert [a["label"] for a in answers] == ["Pricing", "Features", "Looking", "New answer"]
    assert answers[1]["value"] == "Features"
    assert answers[0]["next"] == "end"
    marketer_client.post(url, {**rows, "op": "remove-answer:a2"}, headers=HTMX)
    dialogue.refresh_from_db()
    assert [a["id"] for a in dialogue.flow["cards"]["ask"]["answers"]] == ["a1", "a3"]


def test_cards_are_added_moved_and_deleted(marketer_client: Client, site: Site) -> None:
    dialogue = from_template(site)
    add = reverse("dialogues:card-add", args=[dialogue.pk])
    response = marketer_client.post(add, {"kind": "message", "slot": "hello|next"}, headers=HTMX)
    assert response.status_code == 200
    dialogue.refresh_from_db()
    assert dialogue.flow["cards"]["hello"]["next"] == "c1"
    assert dialogue.flow["cards"]["c1"]["next"] == "email"
    move = reverse("dialogues:card-move", args=[dialogue.pk, "c1"])
    marketer_client.post(move, {"direction": "up"}, headers=HTMX)
    dialogue.refresh_from_db()
    assert (dialogue.flow["start"], dialogue.flow["cards"]["c1"]["next"]) == ("c1", "hello")
    marketer_client.post(reverse("dialogues:card-delete", args=[dialogue.pk, "c1"]))
    dialogue.refresh_from_db()
    assert dialogue.flow == library.CAPTURE_EMAIL.flow


def test_a_branch_rule_is_edited_with_the_audience_operators(
    marketer_client: Client, site: Site
) -> None:
    dialogue = from_template(site)
    marketer_client.post(
        reverse("dialogues:card-add", args=[dialogue.pk]), {"kind": "branch", "slot": "hello|next"}
    )
    url = reverse("dialogues:card-edit", args=[dialogue.pk, "c1"])
    marketer_client.post(url, {"rule_count": "0", "op": "add-rule"})
    page = marketer_client.get(reverse("dialogues:builder", args=[dialogue.pk]), {"edit": "c1"})
    assert "is not empty" in page.content.decode()
    assert 'name="rule-0-operator"' in page.content.decode()
    assert "<legend>Rule 1</legend>" in page.content.decode()
    assert 'value="remove-rule:0"' in page.content.decode()
    marketer_client.post(
        url,
        {"rule_count": "1", "rule-0-match": "any", "rule-0-attribute": "company.industry",
         "rule-0-operator": "is", "rule-0-value": "Retail", "op": "save"},
    )  # fmt: skip
    dialogue.refresh_from_db()
    assert dialogue.flow["cards"]["c1"]["rules"] == [
        {
            "match": "any",
            "conditions": [{"attribute": "company.industry", "operator": "is", "value": "Retail"}],
            "next": "email",
        }
    ]


def test_a_problem_shows_on_its_card_and_blocks_publishing_until_fixed(
    marketer_client: Client, site: Site
) -> None:
    dialogue = from_template(site)
    url = reverse("dialogues:card-edit", args=[dialogue.pk, "hello"])
    html = marketer_client.post(
        url, {"text": "Hi {{lead.firstName", "op": "save"}, headers=HTMX
    ).content.decode()
    assert "not a valid personalisation token" in card_html(html, "hello")
    assert "not a valid personalisation token" not in card_html(html, "email")
    assert '<button type="submit" class="button" disabled>Publish</button>' in html
    publish = reverse("dialogues:publish", args=[dialogue.pk])
    refused = marketer_client.post(publish, headers=HTMX).content.decode()
    assert "Not published" in refused
    dialogue.refresh_from_db()
    assert dialogue.status == DialogueStatus.DRAFT
    assert dialogue.live_version is None

    html = marketer_client.post(
        url, {"text": "Hi there", "op": "save"}, headers=HTMX
    ).content.decode()
    assert "fb-card-problems" not in html
    published = marketer_client.post(publish, headers=HTMX).content.decode()
    assert "Published version 1" in published
    dialogue.refresh_from_db()
    assert dialogue.status == DialogueStatus.PUBLISHED
    assert dialogue.live_version is not None


def test_targeting_problems_are_flow_level_and_link_to_targeting(
    marketer_client: Client, site: Site
) -> None:
    dialogue = from_template(site)
    services.save_targeting(dialogue, {"include": []})
    html = marketer_client.get(reverse("dialogues:builder", args=[dialogue.pk])).content.decode()
    assert "Add at least one target page" in html
    assert reverse("dialogues:targeting", args=[dialogue.pk]) in html


def test_republish_and_unpublish(marketer_client: Client, site: Site) -> None:
    dialogue = from_template(site)
    services.publish(dialogue)
    builder = reverse("dialogues:builder", args=[dialogue.pk])
    assert ">Republish<" not in marketer_client.get(builder).content.decode()
    hello = {"type": "message", "text": "New", "next": "email"}
    services.save_flow(
        dialogue, {**dialogue.flow, "cards": {**dialogue.flow["cards"], "hello": hello}}
    )
    assert ">Republish<" in marketer_client.get(builder).content.decode()
    marketer_client.post(reverse("dialogues:publish", args=[dialogue.pk]))
    assert dialogue.versions.count() == 2
    marketer_client.post(reverse("dialogues:unpublish", args=[dialogue.pk]))
    dialogue.refresh_from_db()
    assert dialogue.status == DialogueStatus.UNPUBLISHED


def test_versions_are_listed_and_readable(
    marketer_client: Client, marketer: Any, site: Site
) -> None:
    dialogue = from_template(site)
    services.publish(dialogue, user=marketer)
    services.save_flow(dialogue, library.QUALIFY.flow)
    services.publish(dialogue, user=marketer)
    html = marketer_client.get(reverse("dialogues:versions", args=[dialogue.pk])).content.decode()
    assert "Version 2" in html
    assert "Version 1" in html
    assert "Maya Marketer" in html
    old = marketer_client.get(reverse("dialogues:version", args=[dialogue.pk, 1])).content.decode()
    assert "Want our best articles" in old
    assert "Would you like to see a demo" not in old
    assert reverse("dialogues:card-add", args=[dialogue.pk]) not in old
    DialogueVersion.objects.bulk_create(
        DialogueVersion(dialogue=dialogue, number=n, flow={}, targeting={}, priority=1)
        for n in range(3, 53)
    )  # fifty a page
    first = marketer_client.get(reverse("dialogues:versions", args=[dialogue.pk])).content.decode()
    assert "Version 52<" in first
    assert "Version 3<" in first
    assert "Version 2<" not in first
    assert "Page 1 of 2" in first
    second = marketer_client.get(reverse("dialogues:versions", args=[dialogue.pk]), {"page": 2})
    assert "Version 2<" in second.content.decode()


def test_a_marketer_deletes_a_dialogue(marketer_client: Client, site: Site) -> None:
    dialogue = from_template(site)
    response = marketer_client.post(reverse("dialogues:delete", args=[dialogue.pk]))
    assert response["Location"] == f"{reverse('dialogues:list')}?site={site.pk}"
    assert not Dialogue.objects.filter(pk=dialogue.pk).exists()


EDITOR_FIELDS = {
    "message": ['name="text"'],
    "question": ['name="text"', 'name="field"', 'name="answer_label"'],
    "capture": ['name="input"', 'name="prompt"', 'name="field"', 'name="skip_if_known"'],
    "meeting": ['name="routing"', 'name="agent"', 'name="text"'],
    "goal": ['name="goal"', 'list="goal-names"'],
    "branch": ['name="rule_count"', 'name="rule-0-attribute"', 'name="rule-0-operator"'],
}


def test_every_card_editor_shows_its_cards_settings(marketer_client: Client, site: Site) -> None:
    dialogue = from_template(site, "qualify")
    add = reverse("dialogues:card-add", args=[dialogue.pk])
    marketer_client.post(add, {"kind": "branch", "slot": "bye|next"})  # c1
    marketer_client.post(reverse("dialogues:card-edit", args=[dialogue.pk, "c1"]),
                         {"rule_count": "0", "op": "add-rule"})  # fmt: skip
    dialogue.refresh_from_db()
    editable = {
        c: card["type"] for c, card in dialogue.flow["cards"].items() if card["type"] != "end"
    }
    assert set(editable.values()) == set(EDITOR_FIELDS)
    for card_id, kind in editable.items():
        url = reverse("dialogues:card-edit", args=[dialogue.pk, card_id])
        editor = card_html(marketer_client.get(url, headers=HTMX).content.decode(), card_id)
        assert f'action="{url}"' in editor
        for needle in EDITOR_FIELDS[kind]:
            assert needle in editor, (card_id, needle)
    end = reverse("dialogues:card-edit", args=[dialogue.pk, "end"])
    assert marketer_client.get(end, headers=HTMX).status_code == 404  # nothing to edit


def test_the_list_and_the_builder_do_not_query_per_dialogue_or_card(
    marketer_client: Client, site: Site
) -> None:
    """The list and the builder cost the same queries with 1 or 6 dialogues or cards."""

    def queries(url: str) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert marketer_client.get(url).status_code == 200
        return len(captured)

    small = from_template(site)
    services.publish(small)
    listed = reverse("dialogues:list")
    one = queries(listed)
    for n in range(5):
        services.publish(from_template(site, "qualify", name=f"Qualify {n}"))
    assert queries(listed) == one
    big = Dialogue.objects.filter(name="Qualify 0").get()
    builder = [reverse("dialogues:builder", args=[d.pk]) for d in (small, big)]
    assert queries(builder[0]) == queries(builder[1])


def test_editing_a_card_reads_the_known_fields_once(
    marketer_client: Client, site: Site, django_assert_max_num_queries: Any
) -> None:
    """Session, user, dialogue, known fields, the update, agents, goals: nothing read twice."""
    dialogue = from_template(site, "qualify")
    url = reverse("dialogues:card-edit", args=[dialogue.pk, "bye"])
    with django_assert_max_num_queries(7):
        marketer_client.post(url, {"text": "See you", "op": "save"}, headers=HTMX)
