"""The Reports page and each dialogue's Reports tab: totals, charts, tables, CSV, drop-off.

The pages read the daily aggregates only; the rows are seeded directly, as the counters keep them.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from dialogues import services
from dialogues.models import Dialogue
from dialogues.report_models import DailyCard, DailyGoal, DailyMetric, DailyPage
from dynchat.models import Site, User
from meetings.models import Meeting, MeetingStatus
from tests.dialogues.factories import new_dialogue

REPORTS = reverse("dialogues:reports")


def today() -> date:
    return timezone.now().date()


def seed(dialogue: Dialogue, days_ago: int = 0, *, known: bool = False, **counts: int) -> None:
    DailyMetric.objects.create(
        site_id=dialogue.site_id,
        dialogue=dialogue,
        day=today() - timedelta(days=days_ago),
        known=known,
        **counts,
    )


def seed_everything(dialogue: Dialogue, days: int) -> None:
    """A row of every kind for each of ``days`` days."""
    for n in range(days):
        day = today() - timedelta(days=n)
        seed(dialogue, n, triggered=10, engaged=5, completed=2, captured=1, goals=1)
        DailyGoal.objects.create(dialogue=dialogue, day=day, known=False, goal="Demo", reached=1)
        DailyPage.objects.create(
            dialogue=dialogue, day=day, known=False, page=f"https://a.example/{n}", triggered=10
        )


def html_of(client: Client, url: str, **params: str) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def csv_rows(client: Client, url: str, **params: str) -> list[list[str]]:
    response = client.get(url, params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_without_conversations_the_page_says_what_will_be_there(
    marketer_client: Client, site: Site
) -> None:
    new_dialogue(site)
    html = html_of(marketer_client, REPORTS)
    assert "No conversations to report yet" in html
    assert '<svg class="chart"' not in html


def test_totals_show_every_metric_and_both_rates(marketer_client: Client, site: Site) -> None:
    dialogue = new_dialogue(site)
    seed(dialogue, triggered=8, engaged=4, completed=2, captured=1, meetings=1, goals=3)
    seed(dialogue, 1, known=True, triggered=2, engaged=1, completed=1, captured=1)
    html = html_of(marketer_client, REPORTS)
    for label, value in [
        ("Triggered", "10"),
        ("Engaged", "5"),
        ("Completed", "3"),
        ("People captured", "2"),
        ("Meetings booked", "1"),
        ("Goals reached", "3"),
        ("Engagement rate", "50.0 %"),
        ("Conversion rate", "40.0 %"),
    ]:
        assert f"<dt>{label}</dt><dd>{value}</dd>" in html


def test_the_audience_filter_separates_known_and_anonymous_visitors(
    marketer_client: Client, site: Site
) -> None:
    dialogue = new_dialogue(site)
    seed(dialogue, triggered=8)
    seed(dialogue, known=True, triggered=2)
    assert "<dt>Triggered</dt><dd>2</dd>" in html_of(marketer_client, REPORTS, audience="known")
    anonymous = html_of(marketer_client, REPORTS, audience="anonymous")
    assert "<dt>Triggered</dt><dd>8</dd>" in anonymous


def test_each_metric_has_an_accessible_chart_and_its_numbers_in_a_table(
    marketer_client: Client, site: Site
) -> None:
    dialogue = new_dialogue(site)
    seed_everything(dialogue, 3)
    html = html_of(marketer_client, REPORTS, range="7")
    assert html.count('<svg class="chart"') == 6
    for label in ["Triggered", "Engaged", "Completed", "People captured", "Meetings booked"]:
        assert f'-title">{label}</title>' in html
    assert "<caption>Per UTC day</caption>" in html
    assert html.count('<th scope="row"><time datetime=') == 7  # every day, zeros filled
    assert " style=" not in html


def test_the_site_page_has_a_row_per_dialogue_linking_to_its_reports(
    marketer_client: Client, site: Site
) -> None:
    first, second = new_dialogue(site, name="Welcome"), new_dialogue(site, name="Pricing")
    seed(first, triggered=4, engaged=1)
    seed(second, triggered=6, engaged=3)
    html = html_of(marketer_client, REPORTS)
    assert "Welcome</a>" in html
    assert "Pricing</a>" in html
    assert reverse("dialogues:dialogue-reports", args=[second.pk]) in html


def test_goals_and_top_pages_are_listed(marketer_client: Client, site: Site) -> None:
    seed_everything(new_dialogue(site), 2)
    html = html_of(marketer_client, REPORTS)
    assert "<td>Demo</td><td>2</td>" in html
    assert "https://a.example/1" in html


def test_every_table_exports_as_csv_with_formulas_escaped(
    marketer_client: Client, site: Site
) -> None:
    """W-1: a cell a spreadsheet would run as a formula starts with a quote."""
    dialogue = new_dialogue(site, name='=HYPERLINK("http://x")')
    seed_everything(dialogue, 2)
    rows = csv_rows(marketer_client, REPORTS, export="dialogues")
    assert rows[0][:3] == ["Dialogue", "Triggered", "Engaged"]
    assert rows[1][:3] == ['\'=HYPERLINK("http://x")', "20", "10"]
    assert csv_rows(marketer_client, REPORTS, export="goals") == [
        ["Goal", "Reached"],
        ["Demo", "2"],
    ]
    assert len(csv_rows(marketer_client, REPORTS, export="pages")) == 3
    assert len(csv_rows(marketer_client, REPORTS, export="daily", range="7")) == 8
    assert csv_rows(marketer_client, REPORTS, export="agents")[0][0] == "Agent"
    assert marketer_client.get(REPORTS, {"export": "nothing"}).status_code == 404


def test_a_range_beyond_90_days_is_cut_to_them(marketer_client: Client, site: Site) -> None:
    dialogue = new_dialogue(site)
    seed(dialogue, 5, triggered=1)
    start = (today() - timedelta(days=400)).isoformat()
    html = html_of(marketer_client, REPORTS, range="custom", start=start, end=today().isoformat())
    assert "the range was cut to them" in html
    assert (today() - timedelta(days=89)).strftime("%-d %b %Y") in html


def test_nonsense_filters_fall_back_to_the_defaults(marketer_client: Client, site: Site) -> None:
    seed(new_dialogue(site), triggered=1)
    html = html_of(marketer_client, REPORTS, range="x", start="never", audience="<b>", site="y")
    assert "<dt>Triggered</dt><dd>1</dd>" in html


def test_with_several_sites_a_picker_chooses_one(marketer_client: Client, site: Site) -> None:
    other = Site.objects.create(name="Site B", allowed_origins=["https://b.example"])
    seed(new_dialogue(site), triggered=1)
    seed(new_dialogue(other), triggered=7)
    html = html_of(marketer_client, REPORTS, site=str(other.pk))
    assert 'name="site"' in html
    assert "<dt>Triggered</dt><dd>7</dd>" in html
    assert "<dt>Triggered</dt><dd>1</dd>" in html_of(marketer_client, REPORTS, site=str(site.pk))


def test_meetings_are_counted_per_agent(marketer_client: Client, site: Site, agent: User) -> None:
    dialogue = new_dialogue(site)
    seed(dialogue, triggered=1, meetings=1)
    start = timezone.now() + timedelta(days=1)
    Meeting.objects.create(
        site=site,
        dialogue=dialogue,
        agent=agent,
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        status=MeetingStatus.UPCOMING,
    )
    html = html_of(marketer_client, REPORTS)
    assert "Meetings by agent" in html
    assert agent.email in html


def test_a_dialogues_reports_tab_shows_that_dialogue_only(
    marketer_client: Client, site: Site
) -> None:
    dialogue, other = new_dialogue(site), new_dialogue(site, name="Other")
    seed(dialogue, triggered=3)
    seed(other, triggered=50)
    url = reverse("dialogues:dialogue-reports", args=[dialogue.pk])
    html = html_of(marketer_client, url)
    assert "<dt>Triggered</dt><dd>3</dd>" in html
    assert f'href="{url}" aria-current="page">Reports</a>' in html
    assert html.count('<svg class="chart"') == 6


def test_agents_see_no_reports_tab(agent_client: Client, site: Site) -> None:
    dialogue = new_dialogue(site)
    html = html_of(agent_client, reverse("dialogues:builder", args=[dialogue.pk]))
    assert reverse("dialogues:dialogue-reports", args=[dialogue.pk]) not in html
    url = reverse("dialogues:dialogue-reports", args=[dialogue.pk])
    assert agent_client.get(url).status_code == 403


def test_the_flow_shows_how_many_reached_and_answered_each_card(
    marketer_client: Client, site: Site
) -> None:
    dialogue = new_dialogue(site)
    version = services.publish(dialogue)
    DailyCard.objects.create(version=version, card="hello", day=today(), reached=8, answered=6)
    DailyCard.objects.create(
        version=version, card="hello", day=today() - timedelta(days=200), reached=2, answered=0
    )
    html = html_of(marketer_client, reverse("dialogues:builder", args=[dialogue.pk]))
    assert "reached 10 · answered 6 (60 %)" in html
    assert "reached 0 · answered 0" in html  # the goal card, not reached yet
    tab = html_of(marketer_client, reverse("dialogues:dialogue-reports", args=[dialogue.pk]))
    assert "Drop-off per card" in tab


def test_a_draft_never_published_shows_no_drop_off(marketer_client: Client, site: Site) -> None:
    dialogue = new_dialogue(site)
    html = html_of(marketer_client, reverse("dialogues:builder", args=[dialogue.pk]))
    assert "fb-reach" not in html


def queries(client: Client, url: str, **params: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return len(captured)


@pytest.mark.parametrize("export", ["", "dialogues"])
def test_the_site_page_reads_as_many_queries_for_5_dialogues_as_for_1_and_for_90_days_as_7(
    marketer_client: Client, site: Site, export: str
) -> None:
    params = {"export": export} if export else {}
    seed_everything(new_dialogue(site), 90)
    one = queries(marketer_client, REPORTS, range="7", **params)
    assert queries(marketer_client, REPORTS, range="90", **params) == one
    for n in range(4):
        seed_everything(new_dialogue(site, name=f"D{n}"), 90)
    assert queries(marketer_client, REPORTS, range="90", **params) == one


def test_a_csv_export_reads_only_its_own_table(marketer_client: Client, site: Site) -> None:
    seed_everything(new_dialogue(site), 30)
    page = queries(marketer_client, REPORTS, range="30")
    for table in ["daily", "goals", "pages", "agents", "dialogues"]:
        # The session, the site and the totals, then the one table: the page reads five.
        assert queries(marketer_client, REPORTS, range="30", export=table) == page - 4, table


def test_a_daily_export_of_a_quiet_period_lists_its_days_as_zeros(
    marketer_client: Client, site: Site
) -> None:
    new_dialogue(site)
    rows = csv_rows(marketer_client, REPORTS, export="daily", range="7")
    assert len(rows) == 8
    assert {tuple(row[1:7]) for row in rows[1:]} == {("0",) * 6}


def test_the_reports_tab_reads_as_many_queries_for_90_days_as_for_7(
    marketer_client: Client, site: Site
) -> None:
    dialogue = new_dialogue(site)
    services.publish(dialogue)
    seed_everything(dialogue, 90)
    url = reverse("dialogues:dialogue-reports", args=[dialogue.pk])
    seven = queries(marketer_client, url, range="7")
    assert queries(marketer_client, url, range="90") == seven
    for n in range(4):
        seed_everything(new_dialogue(site, name=f"D{n}"), 90)
    assert queries(marketer_client, url, range="90") == seven
