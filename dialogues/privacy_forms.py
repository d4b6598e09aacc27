"""The Privacy requests page's form: whose data, and (to erase) the marketer's confirmation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError


class PrivacyRequestForm(forms.Form):
    """A person by e-mail address or by visitor id (exactly one of them)."""

    email = forms.EmailField(
        required=False,
        max_length=254,
        label="E-mail address",
        help_text="Matched whatever its case: Ann@Example.com is ann@example.com.",
    )
    visitor = forms.CharField(
        required=False,
        max_length=64,
        label="Visitor id",
        help_text="The id the widget keeps in the visitor's browser.",
    )
    confirm = forms.BooleanField(
        required=False,
        label="I understand that erasing cannot be undone",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        email = (cleaned.get("email") or "").strip()
        visitor = (cleaned.get("visitor") or "").strip()
        if not self.errors and bool(email) == bool(visitor):
            raise ValidationError("Give either an e-mail address or a visitor id.")
        cleaned["email"], cleaned["visitor"] = email, visitor
        return cleaned

    def require_confirmation(self) -> bool:
        """For an erase: the box must be ticked (adds the error when it is not)."""
        if self.cleaned_data.get("confirm"):
            return True
        self.add_error("confirm", "Tick the box to erase: it cannot be undone.")
        return False
