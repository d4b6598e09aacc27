"""The Routing page: marketers see the queue in order with who is next, pause, reorder, weigh."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from calendars.models import CalendarConnection, ConnectionStatus
from dynchat.models import Role, User
from routing import queue
from routing.models import Rotation, RotationMember
from tests.routing.test_queue import book_next, connect

pytestmark = pytest.mark.django_db
PAGE = reverse("routing:queue")
HTMX = {"HX-Request": "true"}


def names_in_order(html: str) -> list[str]:
    return re.findall(r'class="routing-name">([^<]+)<', html)


def next_row(html: str) -> str:
    match = re.search(r'<tr id="member-(\d+)" class="routing-member routing-next"', html)
    assert match, "no agent is marked next"
    return match.group(1)


def test_agents_may_not_see_the_routing_page(agent_client: Client) -> None:
    assert agent_client.get(PAGE).status_code == 403
    ann = connect("Ann")
    assert (
        agent_client.post(reverse("routing:pause", args=[ann.pk]), {"paused": "on"}).status_code
        == 403
    )
    assert (
        agent_client.post(reverse("routing:policy"), {"count_cancellations": "on"}).status_code
        == 403
    )
    assert RotationMember.objects.get(agent=ann).paused is False
    assert Rotation.current().count_cancellations is False


def test_signed_out_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_an_empty_queue_says_how_agents_join_and_links_to_the_calendar_page(
    marketer_client: Client, agent: User
) -> None:
    response = marketer_client.get(PAGE)
    html = response.content.decode()
    assert response.status_code == 200
    assert "No agent has connected a calendar yet" in html
    assert f'href="{reverse("calendars:calendar")}"' in html
    assert "Agents without a connected calendar" in html
    assert agent.email in html


def test_the_queue_lists_agents_in_order_with_who_is_next_and_their_counts(
    marketer_client: Client,
) -> None:
    connect("Ann"), connect("Bob")
    cay = connect("Cay")
    book_next()
    book_next()
    html = marketer_client.get(PAGE).content.decode()
    assert names_in_order(html) == ["Ann", "Bob", "Cay"]
    assert next_row(html) == str(cay.pk)
    assert "No agent has connected a calendar yet" not in html
    assert "3 of 3 agents in turn" in html


def test_a_lost_calendar_shows_a_needs_reconnect_badge(marketer_client: Client) -> None:
    ann, bob = connect("Ann"), connect("Bob")
    CalendarConnection.objects.filter(agent=ann).update(status=ConnectionStatus.NEEDS_RECONNECT)
    queue.leave(ann.pk)
    html = marketer_client.get(PAGE).content.decode()
    assert "Needs reconnect" in html
    assert next_row(html) == str(bob.pk)
    assert "1 of 2 agents in turn" in html


def test_pausing_through_htmx_answers_with_the_queue_and_moves_the_next_mark(
    marketer_client: Client,
) -> None:
    ann, bob = connect("Ann"), connect("Bob")
    url = reverse("routing:pause", args=[ann.pk])
    response = marketer_client.post(url, {"paused": "on"}, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="routing-queue"')
    assert "<html" not in html
    assert "Ann paused." in html
    assert next_row(html) == str(bob.pk)
    assert RotationMember.objects.get(agent=ann).paused is True

    response = marketer_client.post(url, {"paused": ""}, headers=HTMX)
    assert "Ann back in turn." in response.content.decode()
    assert RotationMember.objects.get(agent=ann).paused is False


def test_without_htmx_a_change_redirects_back_to_the_page(marketer_client: Client) -> None:
    ann = connect("Ann")
    response = marketer_client.post(reverse("routing:pause", args=[ann.pk]), {"paused": "on"})
    assert response.status_code == 302
    assert response["Location"] == PAGE
    assert "Ann paused." in marketer_client.get(PAGE).content.decode()


def test_moving_up_and_down_reorders_the_queue(marketer_client: Client) -> None:
    ann, bob, cay = connect("Ann"), connect("Bob"), connect("Cay")
    html = marketer_client.post(
        reverse("routing:move", args=[cay.pk]), {"direction": "up"}, headers=HTMX
    ).content.decode()
    assert names_in_order(html) == ["Ann", "Cay", "Bob"]
    html = marketer_client.post(
        reverse("routing:move", args=[ann.pk]), {"direction": "down"}, headers=HTMX
    ).content.decode()
    assert names_in_order(html) == ["Cay", "Ann", "Bob"]
    assert next_row(html) == str(cay.pk)
    # The first cannot go further up; the buttons are not offered and the request is harmless.
    marketer_client.post(reverse("routing:move", args=[cay.pk]), {"direction": "up"}, headers=HTMX)
    assert [m.agent_id for m in queue.members()] == [cay.pk, ann.pk, bob.pk]
    bad = marketer_client.post(
        reverse("routing:move", args=[cay.pk]), {"direction": "sideways"}, headers=HTMX
    )
    assert "Move up or down." in bad.content.decode()


def test_the_weight_is_saved_and_checked(marketer_client: Client) -> None:
    ann = connect("Ann")
    url = reverse("routing:weight", args=[ann.pk])
    html = marketer_client.post(url, {"weight": "2"}, headers=HTMX).content.decode()
    assert "Ann now has weight 2." in html
    assert RotationMember.objects.get(agent=ann).weight == 2
    html = marketer_client.post(url, {"weight": "0"}, headers=HTMX).content.decode()
    assert "Weight: a whole number from 1 to 10." in html
    assert RotationMember.objects.get(agent=ann).weight == 2


def test_the_cancellation_policy_and_lead_field_are_saved(marketer_client: Client) -> None:
    url = reverse("routing:policy")
    html = marketer_client.post(
        url, {"count_cancellations": "on", "agent_lead_field": "dynchatAgent"}, headers=HTMX
    ).content.decode()
    assert "Routing policy saved." in html
    assert 'id="routing-policy"' in html
    current = Rotation.current()
    assert (current.count_cancellations, current.agent_lead_field) == (True, "dynchatAgent")

    response = marketer_client.post(url, {"agent_lead_field": "not a field!"})
    assert response.status_code == 422
    assert "Use the field&#x27;s API name" in response.content.decode()
    assert Rotation.current().agent_lead_field == "dynchatAgent"


def test_changes_to_someone_outside_the_rotation_are_not_found(
    marketer_client: Client, agent: User
) -> None:
    for name in ("pause", "move", "weight"):
        response = marketer_client.post(reverse(f"routing:{name}", args=[agent.pk]), {})
        assert response.status_code == 404


def test_changes_are_posted_never_fetched(marketer_client: Client) -> None:
    ann = connect("Ann")
    assert marketer_client.get(reverse("routing:pause", args=[ann.pk])).status_code == 405
    assert marketer_client.get(reverse("routing:policy")).status_code == 405
    assert User.objects.filter(role=Role.AGENT).count() == 1
