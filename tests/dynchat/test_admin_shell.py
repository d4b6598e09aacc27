"""The admin shell: navigation by role, pages with real empty states, the worker status."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from dynchat.middleware import user_time_zone
from dynchat.models import User, WorkerHeartbeat
from dynchat.tasks import record_heartbeat_task

MARKETER_NAV = [
    "Dialogues",
    "Configuration",
    "Calendar",
    "Meetings",
    "Routing",
    "Reports",
    "Privacy",
    "Marketo",
]
AGENT_NAV = ["Dialogues", "Calendar", "Meetings"]
PAGES = {
    "dialogues:list": "No dialogues yet",
    "widget:sites": "Add your website",
    "calendars:calendar": "No calendar connected",
    "meetings:list": "No meetings booked yet",
    "routing:queue": "No agent has connected a calendar yet",
    "dialogues:reports": "No conversations to report yet",
    "sync:overview": "Marketo is not synced yet",
}


def nav_labels(html: str) -> list[str]:
    nav = html.split('<ul class="nav">', 1)[1].split("</ul>", 1)[0]
    return [chunk.split("</span>", 1)[0] for chunk in nav.split("<span>")[1:]]


def test_marketers_see_every_section(marketer_client: Client) -> None:
    response = marketer_client.get(reverse("dialogues:list"))
    assert nav_labels(response.content.decode()) == MARKETER_NAV


def test_agents_see_only_their_sections(agent_client: Client) -> None:
    response = agent_client.get(reverse("dialogues:list"))
    assert nav_labels(response.content.decode()) == AGENT_NAV


@pytest.mark.parametrize(("url_name", "empty_title"), PAGES.items())
def test_each_page_explains_what_will_be_there(
    marketer_client: Client, url_name: str, empty_title: str
) -> None:
    response = marketer_client.get(reverse(url_name))
    html = response.content.decode()
    assert response.status_code == 200
    assert empty_title in html
    assert 'aria-current="page"' in html


def test_the_current_section_is_marked(marketer_client: Client) -> None:
    html = marketer_client.get(reverse("meetings:list")).content.decode()
    assert 'aria-current="page"><svg' in html
    current = html.split('aria-current="page">', 1)[1]
    assert current.split("<span>", 1)[1].startswith("Meetings")


def test_home_takes_marketers_to_dialogues_and_agents_to_their_calendar(
    marketer_client: Client, agent_client: Client
) -> None:
    assert marketer_client.get("/")["Location"] == reverse("dialogues:list")
    assert agent_client.get("/")["Location"] == reverse("calendars:calendar")


def test_agents_read_dialogues_without_the_marketer_steps(agent_client: Client) -> None:
    html = agent_client.get(reverse("dialogues:list")).content.decode()
    assert "read every published dialogue" in html
    assert reverse("widget:sites") not in html


def test_the_routing_page_lists_agents_waiting_for_a_calendar(
    marketer_client: Client, agent: User
) -> None:
    html = marketer_client.get(reverse("routing:queue")).content.decode()
    assert agent.email in html


def test_pages_load_htmx_from_our_own_server_with_the_csp_nonce(marketer_client: Client) -> None:
    response = marketer_client.get(reverse("dialogues:list"))
    html = response.content.decode()
    nonce = response["Content-Security-Policy"].split("'nonce-", 1)[1].split("'", 1)[0]
    assert f'<script src="/static/django_htmx/htmx-2.min.js" defer nonce="{nonce}">' in html
    assert "https://" not in html.split("</head>", 1)[0]


def test_the_worker_status_says_when_no_worker_was_seen(marketer_client: Client) -> None:
    response = marketer_client.get(reverse("dynchat:worker-status"), headers={"HX-Request": "true"})
    assert "no worker seen yet" in response.content.decode()
    assert "<html" not in response.content.decode()


def test_the_worker_status_shows_the_last_heartbeat(marketer_client: Client) -> None:
    record_heartbeat_task.delay()
    html = marketer_client.get(reverse("dynchat:worker-status")).content.decode()
    assert "Background jobs running" in html


def test_the_worker_status_warns_when_the_heartbeat_is_old(marketer_client: Client) -> None:
    WorkerHeartbeat.objects.create(worker="w@h", last_seen=timezone.now() - timedelta(hours=2))
    html = marketer_client.get(reverse("dynchat:worker-status")).content.decode()
    assert "Background jobs stopped" in html
    assert "2\xa0hours" in html


def test_a_heartbeat_updates_one_row_per_worker(db: None) -> None:
    record_heartbeat_task.delay()
    record_heartbeat_task.delay()
    assert WorkerHeartbeat.objects.count() == 1


def test_the_users_time_zone_is_active_while_their_request_runs(
    rf: RequestFactory, marketer: User
) -> None:
    marketer.time_zone = "Pacific/Kiritimati"
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(timezone.get_current_timezone_name())
        return HttpResponse()

    request = rf.get("/meetings/")
    request.user = marketer
    user_time_zone(view)(request)
    assert seen == ["Pacific/Kiritimati"]
