"""The Reports page, each dialogue's Reports tab, their CSV exports, and drop-off on the flow.

Both pages read the daily aggregates only (dialogues.reports), so the number of queries does not
grow with the days in the range or the dialogues of the site. Every table on them can be
downloaded as CSV (``?export=<table>`` with the same filters), each cell formula-escaped.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.safestring import SafeString

from dialogues import reports
from dialogues.charts import line_chart
from dialogues.models import Dialogue
from dialogues.report_forms import Period, ReportForm
from dialogues.views.common import get_dialogue_for_user
from dynchat.access import marketer_required
from dynchat.http import AuthedRequest
from dynchat.models import Site
from dynchat.spreadsheet import safe_cell

METRICS = [
    ("triggered", "Triggered"),
    ("engaged", "Engaged"),
    ("completed", "Completed"),
    ("captured", "People captured"),
    ("meetings", "Meetings booked"),
    ("goals", "Goals reached"),
]
RATES = [("engagement_rate", "Engagement rate"), ("conversion_rate", "Conversion rate")]


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f} %"


@dataclass(frozen=True)
class Reach:
    """How many conversations reached a card of the live version, and how many answered it."""

    reached: int
    answered: int

    @property
    def percent(self) -> str:
        return f"{self.answered * 100 / self.reached:.0f} %" if self.reached else "—"


@dataclass
class Table:
    """One table of the page, as its CSV export writes it."""

    header: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def totals_row(totals: reports.Totals) -> list[Any]:
    return [getattr(totals, name) for name, _ in METRICS] + [
        percent(getattr(totals, name)) for name, _ in RATES
    ]


TOTALS_HEADER = [label for _, label in METRICS] + [label for _, label in RATES]


@dataclass
class Report:
    """Everything the page shows for a period, read in a fixed number of queries."""

    period: Period
    totals: reports.Totals
    daily: list[tuple[date, reports.Totals]] = field(default_factory=list)
    dialogues: list[tuple[Dialogue, reports.Totals]] = field(default_factory=list)
    goals: list[tuple[str, int]] = field(default_factory=list)
    pages: list[tuple[str, int]] = field(default_factory=list)
    agents: list[reports.AgentMeetings] = field(default_factory=list)
    cards: list[tuple[str, str, Reach]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.totals.triggered and not self.totals.meetings and not self.agents

    def figures(self) -> list[tuple[str, str]]:
        """The totals as the page shows them: counts, then both rates."""
        return [(label, str(getattr(self.totals, name))) for name, label in METRICS] + [
            (label, percent(getattr(self.totals, name))) for name, label in RATES
        ]

    def charts(self) -> list[tuple[str, SafeString]]:
        return [
            (label, line_chart(label, [(day, getattr(t, name)) for day, t in self.daily],
                               chart_id=f"chart-{name}"))
            for name, label in METRICS
        ]  # fmt: skip

    def tables(self) -> dict[str, Table]:
        """Every table of the page by its export name."""
        tables = {
            "daily": Table(["Day", *TOTALS_HEADER], [[d, *totals_row(t)] for d, t in self.daily]),
            "goals": Table(["Goal", "Reached"], [list(row) for row in self.goals]),
            "pages": Table(["Page", "Triggered"], [list(row) for row in self.pages]),
            "agents": Table(
                ["Agent", "E-mail", "Booked", "Upcoming", "Completed", "No-show", "Cancelled"],
                [
                    [a.name, a.email, a.booked, a.upcoming, a.completed, a.no_show, a.cancelled]
                    for a in self.agents
                ],
            ),
        }
        if self.cards:
            tables["cards"] = Table(
                ["Card", "Type", "Reached", "Answered", "Answered (%)"],
                [[card, kind, r.reached, r.answered, r.percent] for card, kind, r in self.cards],
            )
        if self.dialogues:
            tables["dialogues"] = Table(
                ["Dialogue", *TOTALS_HEADER],
                [[dialogue.name, *totals_row(t)] for dialogue, t in self.dialogues],
            )
        return tables


def wanted(request: AuthedRequest) -> str | None:
    """The one table a CSV export asks for (only it is read), or None for the whole page."""
    return request.GET.get("export")


def read(
    site: Site, period: Period, dialogue: Dialogue | None = None, only: str | None = None
) -> Report:
    """The report for a site (every dialogue, with the per-dialogue table) or one dialogue; with
    ``only``, just that table of it (a CSV export)."""
    span: dict[str, Any] = {"start": period.start, "end": period.end}
    scope = {**span, "dialogue": dialogue, "audience": period.audience}
    report = Report(period, reports.totals(site, **scope))
    if only in (None, "agents"):
        report.agents = reports.meetings_by_agent(site, dialogue=dialogue, **span)
    if only is None and report.empty:
        return report  # the page's empty state
    if only in (None, "daily"):
        report.daily = reports.daily(site, **scope)
    if only in (None, "goals"):
        report.goals = reports.goals_reached(site, **scope)
    if only in (None, "pages"):
        report.pages = reports.top_pages(site, **scope)
    if dialogue is None and only in (None, "dialogues"):
        report.dialogues = reports.by_dialogue(site, **span, audience=period.audience)
    return report


def csv_response(table: Table, filename: str) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(cell) for cell in table.header])
    writer.writerows([safe_cell(cell) for cell in row] for row in table.rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def respond(
    request: AuthedRequest, template: str, report: Report, form: ReportForm, **context: Any
) -> HttpResponse:
    """The page, or (``?export=<table>``) one of its tables as CSV."""
    period = report.period
    export = request.GET.get("export")
    if export is not None:
        table = report.tables().get(export)
        if table is None:
            raise Http404("No such table on this page.")
        return csv_response(table, f"{export}-{period.start}-{period.end}.csv")
    context |= {"report": report, "form": form, "period": period, "query": form.query(period)}
    return render(request, template, context)


def today() -> date:
    """The current UTC day: reports count by UTC day."""
    return timezone.now().date()


@marketer_required
def reports_page(request: AuthedRequest) -> HttpResponse:
    sites = list(Site.objects.order_by("name", "pk"))
    form = ReportForm(request.GET, sites=sites)
    period = form.period(today())
    if period.site is None:
        return render(request, "dialogues/reports.html", {"form": form, "period": period})
    report = read(period.site, period, only=wanted(request))
    return respond(request, "dialogues/reports.html", report, form)


@marketer_required
def dialogue_reports(request: AuthedRequest, pk: int) -> HttpResponse:
    dialogue = get_dialogue_for_user(request, pk)
    form = ReportForm(request.GET)
    period = replace(form.period(today()), site=dialogue.site)
    only = wanted(request)
    report = read(dialogue.site, period, dialogue, only)
    if only in (None, "cards"):
        report.cards = drop_off_rows(dialogue)
    context = {"dialogue": dialogue, "tab": "reports"}
    return respond(request, "dialogues/reports_tab.html", report, form, **context)


def card_reach(dialogue: Dialogue) -> dict[str, Reach]:
    """Drop-off per card of the live version (all days kept), for the builder's flow."""
    version = dialogue.live_version
    if version is None:
        return {}
    counts = reports.drop_off(version)
    cards = (version.flow or {}).get("cards") or {}
    return {card_id: Reach(*counts.get(card_id, (0, 0))) for card_id in cards}


def drop_off_rows(dialogue: Dialogue) -> list[tuple[str, str, Reach]]:
    """Drop-off per card in the live version's order: id, type, reach."""
    version = dialogue.live_version
    cards = ((version.flow or {}).get("cards") or {}) if version else {}
    reach = card_reach(dialogue)
    return [(card_id, str(cards[card_id].get("type", "")), r) for card_id, r in reach.items()]
