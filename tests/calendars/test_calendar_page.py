"""The Calendar page: an agent sees their calendar's status and sets their booking rules (working
hours in blocks, date overrides, time zone, length, notice, invitation); a marketer sees every
agent's status."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from calendars.forms import parse_blocks, parse_overrides
from calendars.models import BookingRules, CalendarConnection, ConnectionStatus
from dynchat.models import Role, User

PAGE = reverse("calendars:calendar")
RULES = reverse("calendars:rules")


def rules_post(**changes: str) -> dict[str, str]:
    data = {
        "time_zone": "Europe/Berlin",
        "hours_mon": "09:00-12:00, 13:00-17:00",
        "hours_tue": "09:00-17:00",
        "hours_wed": "09:00-17:00",
        "hours_thu": "09:00-17:00",
        "hours_fri": "09:00-13:00",
        "hours_sat": "",
        "hours_sun": "",
        "duration_minutes": "45",
        "buffer_minutes": "15",
        "notice_minutes": "120",
        "horizon_days": "21",
        "meeting_title": "Intro call",
        "invitation_subject": "{{meeting.title}} with {{agent.name}}",
        "invitation_body": "Hi {{lead.firstName}}, see you at {{meeting.start}}.",
        "add_video_link": "on",
    }
    data.update(changes)
    return data


def connection_of(agent: User, **fields: Any) -> CalendarConnection:
    return CalendarConnection.objects.create(
        agent=agent, provider="google", account_email="alex.agent@acme.example", **fields
    )


def test_an_agent_without_a_calendar_is_offered_both_providers(agent_client: Client) -> None:
    html = agent_client.get(PAGE).content.decode()
    assert "No calendar connected" in html
    assert "Connect Google Calendar" in html
    assert "Connect Outlook" in html
    assert 'value="09:00-17:00"' in html  # the default working hours, Monday to Friday


def test_an_agent_sees_which_calendar_is_connected(agent: User, agent_client: Client) -> None:
    connection_of(agent)
    html = agent_client.get(PAGE).content.decode()
    assert "Connected" in html
    assert "alex.agent@acme.example" in html
    assert "Google Calendar" in html
    assert "Disconnect calendar" in html
    assert "Connect Outlook" not in html


def test_an_agent_is_told_why_their_calendar_needs_reconnecting(
    agent: User, agent_client: Client
) -> None:
    connection_of(
        agent,
        status=ConnectionStatus.NEEDS_RECONNECT,
        lost_at=timezone.now(),
        lost_reason="Token has been expired or revoked.",
    )
    html = agent_client.get(PAGE).content.decode()
    assert "Needs reconnecting" in html
    assert "Token has been expired or revoked." in html
    assert "Connect Google Calendar" in html


def test_an_agent_saves_working_hours_in_several_blocks(agent: User, agent_client: Client) -> None:
    response = agent_client.post(RULES, rules_post())

    assert response.status_code == 302
    rules = BookingRules.objects.get(agent=agent)
    assert rules.working_hours == {
        "mon": [["09:00", "12:00"], ["13:00", "17:00"]],
        "tue": [["09:00", "17:00"]],
        "wed": [["09:00", "17:00"]],
        "thu": [["09:00", "17:00"]],
        "fri": [["09:00", "13:00"]],
        "sat": [],
        "sun": [],
    }
    assert (rules.duration_minutes, rules.buffer_minutes) == (45, 15)
    assert (rules.notice_minutes, rules.horizon_days) == (120, 21)
    assert rules.meeting_title == "Intro call"
    assert rules.invitation_body == "Hi {{lead.firstName}}, see you at {{meeting.start}}."
    assert rules.add_video_link is True
    agent.refresh_from_db()
    assert agent.time_zone == "Europe/Berlin"
    html = agent_client.get(PAGE).content.decode()
    assert 'value="09:00-12:00, 13:00-17:00"' in html


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("09:00-12:00, 11:00-13:00", "The blocks 09:00-12:00 and 11:00-13:00 overlap."),
        ("13:00-17:00, 09:00-13:30", "The blocks 09:00-13:30 and 13:00-17:00 overlap."),
        ("17:00-09:00", "The block 17:00-09:00 ends before it starts."),
        ("9-5", "“9-5” is not a time block; write it like 09:00-17:00"),
        ("09:00-25:00", "“09:00-25:00” is not a time block"),
        ("09:60-10:00", "“09:60-10:00” is not a time block"),
        ("mornings", "“mornings” is not a time block"),
    ],
)
def test_overlapping_or_invalid_blocks_are_refused_with_a_clear_message(
    agent: User, agent_client: Client, hours: str, message: str
) -> None:
    response = agent_client.post(RULES, rules_post(hours_mon=hours))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BookingRules.objects.filter(agent=agent, duration_minutes=45).exists()


def test_an_unknown_time_zone_is_refused(agent: User, agent_client: Client) -> None:
    response = agent_client.post(RULES, rules_post(time_zone="Europe/Atlantis"))
    assert response.status_code == 400
    agent.refresh_from_db()
    assert agent.time_zone == "UTC"


def test_a_week_without_working_hours_is_refused(agent_client: Client) -> None:
    days = {f"hours_{day}": "" for day in ("mon", "tue", "wed", "thu", "fri")}
    response = agent_client.post(RULES, rules_post(**days))
    assert response.status_code == 400
    assert "Give working hours for at least one day." in response.content.decode()


@pytest.mark.parametrize(
    ("text", "blocks"),
    [
        ("", []),
        ("09:00-17:00", [["09:00", "17:00"]]),
        (" 13:00 - 17:00 ; 9:00–12:00 ", [["09:00", "12:00"], ["13:00", "17:00"]]),
        ("09:00-12:00, 12:00-13:00", [["09:00", "12:00"], ["12:00", "13:00"]]),
        ("00:00-24:00", [["00:00", "24:00"]]),
    ],
)
def test_blocks_are_read_in_the_forms_people_write_them(text: str, blocks: list[list[str]]) -> None:
    assert parse_blocks(text) == blocks


def test_an_agent_saves_date_overrides_and_sees_them_again(
    agent: User, agent_client: Client
) -> None:
    """RR-7: date overrides: a day off and a shorter day, stored by date, shown as written."""
    overrides = "2026-12-31: 13:00-15:00; 9:00-12:00\n\n  2026-12-24: Off  \n"
    response = agent_client.post(RULES, rules_post(date_overrides=overrides))

    assert response.status_code == 302
    rules = BookingRules.objects.get(agent=agent)
    assert rules.date_overrides == {
        "2026-12-24": [],
        "2026-12-31": [["09:00", "12:00"], ["13:00", "15:00"]],
    }
    html = agent_client.get(PAGE).content.decode()
    assert "2026-12-24: off\n2026-12-31: 09:00-12:00, 13:00-15:00</textarea>" in html


def test_saving_without_date_overrides_clears_them(agent: User, agent_client: Client) -> None:
    """RR-7: date overrides: an empty box means none."""
    agent_client.post(RULES, rules_post(date_overrides="2026-12-24: off"))
    agent_client.post(RULES, rules_post(date_overrides=""))
    assert BookingRules.objects.get(agent=agent).date_overrides == {}


def test_past_dates_are_accepted(agent: User, agent_client: Client) -> None:
    """RR-7: date overrides: a date that has passed is kept and simply no longer matters."""
    response = agent_client.post(RULES, rules_post(date_overrides="2020-01-01: off"))
    assert response.status_code == 302
    assert BookingRules.objects.get(agent=agent).date_overrides == {"2020-01-01": []}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ("2026-02-30: off", "“2026-02-30” is not a date; write it like 2026-12-24."),
        ("24.12.2026: off", "“24.12.2026” is not a date"),
        ("2026-12-24 off", "“2026-12-24 off”: write a date and its hours"),
        ("2026-12-24:", "2026-12-24: give blocks like 09:00-12:00, or “off” for a day off."),
        ("2026-12-24: mornings", "2026-12-24: “mornings” is not a time block"),
        ("2026-12-24: 12:00-09:00", "2026-12-24: The block 12:00-09:00 ends before it starts."),
        (
            "2026-12-24: 09:00-12:00, 11:00-13:00",
            "2026-12-24: The blocks 09:00-12:00 and 11:00-13:00 overlap.",
        ),
        ("2026-12-24: off\n2026-12-24: 09:00-12:00", "2026-12-24 is given twice."),
        ("\n".join(f"2027-01-01: off {n}" for n in range(101)), "At most 100 date overrides."),
    ],
)
def test_bad_date_overrides_are_refused_with_a_clear_message(
    agent: User, agent_client: Client, overrides: str, message: str
) -> None:
    """RR-7: date overrides: what is wrong, on which line."""
    response = agent_client.post(RULES, rules_post(date_overrides=overrides))

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not BookingRules.objects.filter(agent=agent, duration_minutes=45).exists()


def test_every_bad_date_override_is_named() -> None:
    """RR-7: date overrides: one message a bad line."""
    with pytest.raises(ValidationError) as refused:
        parse_overrides("2026-13-01: off\n2026-12-24: off\n2026-12-31: 9-5")
    assert refused.value.messages == [
        "“2026-13-01” is not a date; write it like 2026-12-24.",
        "2026-12-31: “9-5” is not a time block; write it like 09:00-17:00 (24-hour clock).",
    ]


def test_a_hundred_date_overrides_are_fine() -> None:
    """RR-7: date overrides: up to 100 lines."""
    text = "\n".join(f"2027-{month:02d}-{day:02d}: off" for month in (1, 2, 3, 4) for day in
                     range(1, 26))  # fmt: skip
    assert len(parse_overrides(text)) == 100


def test_htmx_saves_answer_the_form_alone(agent: User, agent_client: Client) -> None:
    response = agent_client.post(RULES, rules_post(), headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Booking rules saved." in html
    assert "<html" not in html
    assert BookingRules.objects.get(agent=agent).duration_minutes == 45


def test_htmx_refusals_show_in_the_form(agent_client: Client) -> None:
    response = agent_client.post(
        RULES, rules_post(hours_tue="10:00-11:00, 10:30-12:00"), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "The blocks 10:00-11:00 and 10:30-12:00 overlap." in html
    assert "<html" not in html


def test_a_marketer_sees_every_agents_calendar_status(marketer_client: Client, agent: User) -> None:
    sam = User.objects.create_user("sam@example.com", "pw", name="Sam Rivera", role=Role.AGENT)
    User.objects.create_user("kim@example.com", "pw", name="Kim Lee", role=Role.AGENT)
    connection_of(agent)
    connection_of(
        sam, status=ConnectionStatus.NEEDS_RECONNECT, lost_reason="Token has been revoked."
    )

    html = marketer_client.get(PAGE).content.decode()

    rows = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("<tr>")[1:]
    assert [row.split("<td>", 2)[1].split("</td>")[0] for row in rows] == [
        "Alex Agent",
        "Kim Lee",
        "Sam Rivera",
    ]
    assert "Connected" in rows[0]
    assert "Not connected" in rows[1]
    assert "Needs reconnecting" in rows[2]
    assert "Token has been revoked." in rows[2]
    assert "Connect Google Calendar" not in html
    assert "Save booking rules" not in html


def test_marketers_do_not_edit_booking_rules(marketer_client: Client) -> None:
    assert marketer_client.post(RULES, rules_post()).status_code == 403
    assert marketer_client.post(reverse("calendars:disconnect")).status_code == 403


def test_the_connect_form_may_lead_on_to_the_providers_and_nowhere_else(
    agent_client: Client,
) -> None:
    policy = agent_client.get(PAGE)["Content-Security-Policy"]
    form_action = next(d for d in policy.split("; ") if d.startswith("form-action"))
    assert form_action.split()[1:] == [
        "'self'",
        "https://accounts.google.com",
        "https://login.microsoftonline.com",
    ]
