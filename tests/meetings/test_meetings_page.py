"""The Meetings page: who sees what, filters, search, pages, the viewer's zone, CSV, actions."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from dialogues.models import Dialogue
from dynchat.models import Role, Site, User
from meetings.models import MeetingStatus
from meetings.views import MEETINGS_PER_PAGE
from tests.dialogues.factories import new_dialogue
from tests.meetings.test_lifecycle import make_meeting

pytestmark = pytest.mark.django_db

DAY = datetime(2031, 3, 4, 9, 30, tzinfo=UTC)  # a Tuesday


@pytest.fixture
def bo(db: None) -> User:
    return User.objects.create_user("bo@example.com", "pw", name="Bo Agent", role=Role.AGENT)


@pytest.fixture
def demo(site: Site) -> Dialogue:
    return new_dialogue(site, name="Demo request")


def page(client: Client, **params: Any) -> str:
    response = client.get(reverse("meetings:list"), params)
    assert response.status_code == 200
    return response.content.decode()


def csv_rows(client: Client, **params: Any) -> list[list[str]]:
    response = client.get(reverse("meetings:csv"), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    return list(csv.reader(io.StringIO(text)))


def test_an_agent_sees_only_their_own_meetings(
    agent_client: Client, site: Site, agent: User, bo: User
) -> None:
    make_meeting(site, agent, lead_email="mine@example.com", start=DAY)
    make_meeting(site, bo, lead_email="theirs@example.com", start=DAY)
    html = page(agent_client)
    assert "mine@example.com" in html
    assert "theirs@example.com" not in html
    assert 'name="agent"' not in html, "agents get no agent filter"


def test_a_marketer_sees_every_meeting_but_no_holds(
    marketer_client: Client, site: Site, agent: User, bo: User
) -> None:
    make_meeting(site, agent, lead_email="mine@example.com", start=DAY)
    make_meeting(site, bo, lead_email="theirs@example.com", start=DAY)
    make_meeting(
        site,
        bo,
        lead_email="held@example.com",
        start=DAY + timedelta(days=1),
        status=MeetingStatus.HELD,
        hold_expires_at=timezone.now() + timedelta(minutes=5),
    )
    html = page(marketer_client)
    assert "mine@example.com" in html
    assert "theirs@example.com" in html
    assert "held@example.com" not in html


def test_the_table_shows_lead_agent_dialogue_duration_status_and_took_place(
    marketer_client: Client, site: Site, agent: User, demo: Dialogue
) -> None:
    make_meeting(site, agent, start=DAY, minutes=45, dialogue=demo, status=MeetingStatus.NO_SHOW)
    html = page(marketer_client)
    for text in ["ada@example.com", "Ada Lovelace", "Alex Agent", "Demo request", "45 min"]:
        assert text in html
    assert "No-show" in html
    assert "<td>No</td>" in html


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"agent": "bo"}, {"b@example.com"}),
        ({"status": "cancelled"}, {"c@example.com"}),
        ({"dialogue": "demo"}, {"a@example.com"}),
        ({"q": "B@EXAMPLE"}, {"b@example.com"}),
        ({"start": "2031-03-05", "end": "2031-03-05"}, {"b@example.com"}),
        ({"start": "2031-03-05"}, {"b@example.com", "c@example.com"}),
    ],
)
def test_filters_narrow_the_list(
    marketer_client: Client,
    site: Site,
    agent: User,
    bo: User,
    demo: Dialogue,
    params: dict[str, str],
    expected: set[str],
) -> None:
    make_meeting(site, agent, lead_email="a@example.com", start=DAY, dialogue=demo)
    make_meeting(site, bo, lead_email="b@example.com", start=DAY + timedelta(days=1))
    make_meeting(
        site,
        agent,
        lead_email="c@example.com",
        start=DAY + timedelta(days=2),
        status=MeetingStatus.CANCELLED,
    )
    ids = {"bo": str(bo.pk), "demo": str(demo.pk)}
    params = {key: ids.get(value, value) for key, value in params.items()}
    html = page(marketer_client, **params)
    shown = {
        email for email in ["a@example.com", "b@example.com", "c@example.com"] if email in html
    }
    assert shown == expected
    rows = csv_rows(marketer_client, **params)
    assert {row[0] for row in rows[1:]} == expected, "the export follows the filters"


def test_dates_are_days_in_the_viewers_zone(
    client: Client, site: Site, agent: User, marketer: User
) -> None:
    marketer.time_zone = "America/Los_Angeles"
    marketer.save(update_fields=["time_zone"])
    client.force_login(marketer)
    # 02:00 UTC on the 5th is still the evening of the 4th in Los Angeles.
    make_meeting(
        site, agent, lead_email="late@example.com", start=datetime(2031, 3, 5, 2, 0, tzinfo=UTC)
    )
    html = page(client, start="2031-03-04", end="2031-03-04")
    assert "late@example.com" in html
    assert "Tue 4 Mar 2031, 18:00" in html
    [_, row] = csv_rows(client)
    assert row[5:7] == ["2031-03-04 18:00", "America/Los_Angeles"]


def test_the_list_is_paged(marketer_client: Client, site: Site, agent: User) -> None:
    for index in range(MEETINGS_PER_PAGE + 1):
        make_meeting(
            site, agent, lead_email=f"lead{index}@example.com", start=DAY + timedelta(hours=index)
        )
    first = page(marketer_client)
    assert "lead50@example.com" in first, "newest first"
    assert "lead0@example.com" not in first
    assert "Page 1 of 2" in first
    second = page(marketer_client, page="2")
    assert "lead0@example.com" in second


def test_the_page_and_its_htmx_fragment_need_a_fixed_number_of_queries(
    marketer_client: Client,
    site: Site,
    agent: User,
    demo: Dialogue,
    django_assert_max_num_queries: Any,
) -> None:
    for index in range(20):
        make_meeting(
            site,
            agent,
            lead_email=f"l{index}@example.com",
            start=DAY + timedelta(hours=index),
            dialogue=demo,
        )
    with django_assert_max_num_queries(12):
        page(marketer_client)
    response = marketer_client.get(reverse("meetings:list"), {"q": "l1"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'id="meeting-results"' in html
    assert "<html" not in html, "only the results fragment"
    assert response["Vary"].count("HX-Request") == 1


def test_the_csv_escapes_cells_a_spreadsheet_would_run(
    marketer_client: Client, site: Site, agent: User
) -> None:
    make_meeting(site, agent, lead_email="=1+1@example.com", lead_name="@SUM(A1)", start=DAY)
    make_meeting(
        site, agent, lead_email="x@example.com", lead_name="-2+3", start=DAY + timedelta(hours=1)
    )
    make_meeting(
        site,
        agent,
        lead_email="y@example.com",
        lead_name="+cmd|' /C calc'!A0",
        start=DAY + timedelta(hours=2),
    )
    make_meeting(
        site, agent, lead_email="z@example.com", lead_name="\tTab", start=DAY + timedelta(hours=3)
    )
    rows = csv_rows(marketer_client)
    assert rows[0][:3] == ["Lead email", "Lead name", "Agent"]
    names = {row[1] for row in rows[1:]}
    assert names == {"'@SUM(A1)", "'-2+3", "'+cmd|' /C calc'!A0", "'\tTab"}
    assert "'=1+1@example.com" in {row[0] for row in rows[1:]}


def test_an_empty_list_explains_what_will_be_there(
    marketer_client: Client, agent_client: Client
) -> None:
    assert "No meetings booked yet" in page(marketer_client)
    assert "No meetings booked with you yet" in page(agent_client)


def test_filters_that_match_nothing_say_so(
    marketer_client: Client, site: Site, agent: User
) -> None:
    make_meeting(site, agent, start=DAY)
    html = page(marketer_client, q="nobody")
    assert "No meeting matches these filters" in html


def test_an_agent_cancels_their_upcoming_meeting_from_the_list(
    agent_client: Client, site: Site, agent: User, django_capture_on_commit_callbacks: Any
) -> None:
    meeting = make_meeting(site, agent, start=timezone.now() + timedelta(days=3))
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(reverse("meetings:cancel", args=[meeting.pk]))
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.CANCELLED


def test_an_agent_cannot_cancel_another_agents_meeting(
    agent_client: Client, site: Site, bo: User
) -> None:
    meeting = make_meeting(site, bo, start=timezone.now() + timedelta(days=3))
    response = agent_client.post(reverse("meetings:cancel", args=[meeting.pk]))
    assert response.status_code == 404
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.UPCOMING


def test_the_agent_marks_a_no_show_from_the_list(
    agent_client: Client, site: Site, agent: User
) -> None:
    meeting = make_meeting(site, agent, start=timezone.now() - timedelta(hours=1))
    html = page(agent_client)
    assert "Mark no-show" in html
    response = agent_client.post(reverse("meetings:no-show", args=[meeting.pk]), follow=True)
    meeting.refresh_from_db()
    assert meeting.status == MeetingStatus.NO_SHOW
    assert "as a no-show" in response.content.decode()


def test_actions_only_accept_post(agent_client: Client, site: Site, agent: User) -> None:
    meeting = make_meeting(site, agent, start=DAY)
    assert agent_client.get(reverse("meetings:cancel", args=[meeting.pk])).status_code == 405


def test_lead_text_is_shown_as_text(marketer_client: Client, site: Site, agent: User) -> None:
    """W-3: a visitor's name with template syntax or markup is shown literally."""
    make_meeting(site, agent, start=DAY, lead_name="{{ request }} {% debug %} <b>x</b>")
    html = page(marketer_client)
    assert "{{ request }} {% debug %} &lt;b&gt;x&lt;/b&gt;" in html
