"""The Reports filters: which site, which days (a preset or a custom range), which visitors.

Days are UTC days, as the counters are. A range reaching further back than the 90 days reports
keep is cut to them (and the page says so); a form that does not validate falls back to the
defaults, so a hand-edited address never fails the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast
from urllib.parse import urlencode

from django import forms

from dialogues import reports
from dynchat.models import Site

PRESETS = [
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("custom", "Custom"),
]
DEFAULT_PRESET = "30"
AUDIENCES = [("all", "All visitors"), ("known", "Known visitors"), ("anonymous", "Anonymous")]


@dataclass(frozen=True)
class Period:
    """What the page reports on."""

    site: Site | None
    start: date
    end: date
    audience: reports.Audience
    clamped: bool = False  # the range asked for reached past what reports keep

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class ReportForm(forms.Form):
    site = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Site")
    range = forms.ChoiceField(
        required=False, choices=PRESETS, initial=DEFAULT_PRESET, label="Period"
    )
    start = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))
    audience = forms.ChoiceField(required=False, choices=AUDIENCES, initial="all", label="Visitors")

    def __init__(self, data: Any, *, sites: Sequence[Site] = ()) -> None:
        super().__init__(data or None)
        self.sites = list(sites)
        if len(self.sites) > 1:
            cast(forms.TypedChoiceField, self.fields["site"]).choices = [
                (site.pk, site.name) for site in self.sites
            ]
        else:
            del self.fields["site"]  # nothing to pick

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if cleaned.get("range") == "custom":
            if not start or not end:
                self.add_error("start", "Pick both days of a custom range.")
            elif end < start:
                self.add_error("end", "The end date is before the start date.")
        return cleaned

    def period(self, today: date) -> Period:
        """The site, days and audience chosen; the defaults for anything missing or invalid."""
        data: dict[str, Any] = self.cleaned_data if self.is_bound and self.is_valid() else {}
        wanted = data.get("site")
        site = next(
            (s for s in self.sites if s.pk == wanted), self.sites[0] if self.sites else None
        )
        audience = cast(reports.Audience, data.get("audience") or "all")
        preset = data.get("range") or DEFAULT_PRESET
        if preset == "custom":
            asked = (data["start"], data["end"])
        else:
            asked = (today - timedelta(days=int(preset) - 1), today)
        start, end = reports.clamp(asked[0], asked[1], today)
        return Period(site, start, end, audience, clamped=(start, end) != asked)

    def query(self, period: Period) -> str:
        """The address's query for this period, for links (CSV exports) that keep the filters."""
        params = {
            "range": "custom",
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
        }
        if (
            self.is_bound
            and self.is_valid()
            and self.cleaned_data.get("range") not in ("", "custom")
        ):
            params = {"range": self.cleaned_data["range"]}
        elif not self.is_bound:
            params = {"range": DEFAULT_PRESET}
        if period.audience != "all":
            params["audience"] = period.audience
        if period.site is not None and len(self.sites) > 1:
            params["site"] = str(period.site.pk)
        return urlencode(params)
