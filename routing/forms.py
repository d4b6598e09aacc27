"""Input of the Routing page: cleaned here, acted on by routing.queue."""

from __future__ import annotations

from django import forms
from django.core.validators import RegexValidator

from routing.queue import MAX_WEIGHT


class PauseForm(forms.Form):
    paused = forms.BooleanField(required=False)


class MoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


class WeightForm(forms.Form):
    weight = forms.IntegerField(min_value=1, max_value=MAX_WEIGHT)


class PolicyForm(forms.Form):
    count_cancellations = forms.BooleanField(
        required=False,
        label="A cancelled meeting still counts as the agent's turn",
        help_text="Off: the agent gets their turn back when a visitor cancels.",
    )
    agent_lead_field = forms.CharField(
        required=False,
        max_length=80,
        label="Marketo lead field for the assigned agent",
        help_text="The API name of a lead field that receives the agent's e-mail; empty: none.",
        validators=[
            RegexValidator(
                r"^[A-Za-z][A-Za-z0-9_]*$", "Use the field's API name: letters, digits, _."
            )
        ],
    )
