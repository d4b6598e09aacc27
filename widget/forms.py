from __future__ import annotations

from typing import Any

from django import forms

from dynchat.models import Site
from dynchat.origins import normalize_origin
from widget.payloads import VISITOR_ID_CHARS

MAX_ORIGINS = 20


class OriginsField(forms.CharField):
    """Origins typed one per line, cleaned to the exact form browsers send."""

    widget = forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "autocapitalize": "off"})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        origins: list[str] = []
        errors: list[str] = []
        for line in text.splitlines():
            if not line.strip():
                continue
            try:
                origin = normalize_origin(line)
            except ValueError as error:
                errors.append(str(error))
                continue
            if origin not in origins:
                origins.append(origin)
        if errors:
            raise forms.ValidationError(errors)
        if len(origins) > MAX_ORIGINS:
            raise forms.ValidationError(f"At most {MAX_ORIGINS} origins per site.")
        return origins

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(value)
        return value


class SiteForm(forms.ModelForm[Site]):
    allowed_origins = OriginsField(
        required=False,
        label="Allowed origins",
        help_text="Where the widget may load, one per line, e.g. https://www.example.com. "
        "Pages on any other origin get no chat.",
    )

    class Meta:
        model = Site
        fields = ["name", "allowed_origins"]
        help_texts = {"name": "For you and your team, e.g. the site's domain."}


# Python's "$" would also accept a final newline, which the documented pattern refuses.
VISITOR_ID = rf"^{VISITOR_ID_CHARS}\Z"


class DecideForm(forms.Form):
    site = forms.CharField(max_length=64, strip=False)
    url = forms.URLField(max_length=2048, assume_scheme="https")
    visitor = forms.RegexField(
        VISITOR_ID, required=False, strip=False, help_text="First-party visitor id."
    )
    mkto = forms.CharField(
        max_length=500, required=False, strip=False, help_text="The _mkto_trk cookie."
    )

    def clean_url(self) -> str:
        """The page URL exactly as sent: whitespace around it is an error, not trimmed."""
        raw = str(self.data.get("url", ""))
        if raw != raw.strip():
            raise forms.ValidationError("The URL has spaces around it.")
        return str(self.cleaned_data["url"])


class VersionForm(forms.Form):
    site = forms.CharField(max_length=64, strip=False)
