"""The builder's forms: they clean what the marketer typed; the views hand it to the services.

Repeated rows (a question's answers, a branch's rules, an audience's groups) arrive as parallel
lists (``answer_label`` …) or numbered names (``rule-0-attribute`` …), as plain HTML forms send
them, so adding a row needs no JavaScript: the form posts with an ``op`` and comes back longer.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from django import forms
from django.http import QueryDict

from dialogues import library
from dialogues.audience import MAX_GROUPS, OPERATOR_LABELS, OPERATORS, VALUELESS_OPERATORS
from dialogues.flow_schema import MAX_ANSWERS, MAX_NAME, MAX_RULES, MAX_TEXT
from dialogues.models import MAX_PRIORITY, Dialogue
from dialogues.targeting import MAX_TRIGGER_SECONDS, TRIGGER_KINDS
from dynchat.models import Role, Site, User
from sync.models import MarketoLead

OPERATOR_CHOICES = [(op, OPERATOR_LABELS[op]) for op in OPERATORS]
TRIGGER_LABELS = {
    "immediately": "Immediately",
    "time_on_page": "After seconds on the page",
    "time_on_site": "After seconds on the site",
    "scroll": "After scrolling (% of the page)",
}
INPUT_LABELS = {"email": "Email", "phone": "Phone", "text": "Free text", "picklist": "Picklist"}


PRIORITY_HELP = "1 is the highest: of several qualifying dialogues, the highest shows."


def _posted(form: forms.Form) -> QueryDict:
    return form.data if isinstance(form.data, QueryDict) else QueryDict()


def _count(data: QueryDict, name: str) -> int:
    value = data.get(name, "")
    return int(value) if value.isdigit() else 0


def _lines(text: str) -> list[str]:
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


def _text(**kwargs: Any) -> forms.CharField:
    return forms.CharField(max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 2}), **kwargs)


class CardForm(forms.Form):
    """One card's settings; ``values()`` is the card without its ways on."""

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        card: Mapping[str, Any],
        lead_fields: Collection[str] = (),
        attributes: Collection[str] = (),
    ) -> None:
        super().__init__(data, initial=dict(card))
        self.card = card
        self.lead_fields = sorted(lead_fields)
        self.attributes = sorted(attributes)
        self.setup()

    def setup(self) -> None:
        """Adjust choices that depend on the site and the sync."""

    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class MessageForm(CardForm):
    text = _text(label="Text")


class GoalForm(CardForm):
    goal = forms.CharField(
        label="Goal", max_length=MAX_NAME, widget=forms.TextInput(attrs={"list": "goal-names"})
    )


class MeetingForm(CardForm):
    routing = forms.ChoiceField(
        label="Book with", choices=[("round_robin", "Round robin"), ("agent", "A named agent")]
    )
    agent = forms.TypedChoiceField(label="Agent", required=False, coerce=int, empty_value=None)
    text = _text(label="Text", required=False)

    def setup(self) -> None:
        agents = User.objects.filter(role=Role.AGENT, is_active=True).order_by("name", "email")
        choices = [("", "—"), *((str(a.pk), a.get_full_name()) for a in agents)]
        self.fields["agent"].choices = choices  # type: ignore[attr-defined]
        if self.card.get("agent") is not None:
            self.initial["agent"] = str(self.card["agent"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("routing") == "agent" and not data.get("agent"):
            self.add_error("agent", "Choose the agent who takes these meetings.")
        if data.get("routing") == "round_robin":
            data["agent"] = None
        return data


def _field_choices(fields: Sequence[str], *, optional: bool) -> list[tuple[str, str]]:
    return [*([("", "— not saved —")] if optional else []), *((f, f) for f in fields)]


class CaptureForm(CardForm):
    input = forms.ChoiceField(label="Input", choices=list(INPUT_LABELS.items()))
    prompt = _text(label="Prompt")
    placeholder = forms.CharField(label="Placeholder", max_length=MAX_TEXT, required=False)
    options = forms.CharField(
        label="Options (picklist, one per line)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    field = forms.ChoiceField(label="Save to lead field")
    skip_if_known = forms.BooleanField(label="Skip if already known", required=False)
    overwrite = forms.BooleanField(label="Overwrite an existing value", required=False)

    def setup(self) -> None:
        self.fields["field"].choices = _field_choices(self.lead_fields, optional=False)  # type: ignore[attr-defined]
        self.initial["options"] = "\n".join(self.card.get("options") or [])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        options = _lines(data.get("options") or "")
        if data.get("input") == "picklist":
            if not options:
                self.add_error("options", "A picklist needs at least one option.")
            if any(len(option) > MAX_NAME for option in options):
                self.add_error("options", f"An option can be at most {MAX_NAME} characters.")
            data["options"] = options
        else:
            data.pop("options", None)
        return data


class QuestionForm(CardForm):
    text = _text(label="Question")
    field = forms.ChoiceField(label="Save the answer to lead field", required=False)

    def setup(self) -> None:
        self.fields["field"].choices = _field_choices(self.lead_fields, optional=True)  # type: ignore[attr-defined]
        self.initial["field"] = self.card.get("field") or ""

    @property
    def rows(self) -> list[dict[str, Any]]:
        if not self.is_bound:
            return [dict(a) for a in self.card.get("answers", [])]
        data = _posted(self)
        ids, labels, values = (
            data.getlist(name) for name in ("answer_id", "answer_label", "answer_value")
        )
        return [
            {"id": i, "label": lb, "value": v}
            for i, lb, v in zip(ids, labels, values, strict=False)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        answers = []
        for row in self.rows:
            label, value = row["label"].strip(), row["value"].strip()
            if not label:
                self.add_error(None, "Every answer needs a label.")
            elif len(label) > MAX_TEXT or len(value) > MAX_TEXT:
                self.add_error(None, "An answer is too long.")
            answers.append({"id": row["id"], "label": label, "value": value or label})
        if len(answers) > MAX_ANSWERS:
            self.add_error(None, f"A question can have at most {MAX_ANSWERS} answers.")
        data["answers"] = answers
        data["field"] = data.get("field") or None
        return data


def _conditions(data: QueryDict, prefix: str, *, valueless: Any) -> list[dict[str, Any]]:
    attributes, operators, values = (
        data.getlist(f"{prefix}-{name}") for name in ("attribute", "operator", "value")
    )
    return [
        {
            "attribute": attribute,
            "operator": operator,
            "value": valueless if operator in VALUELESS_OPERATORS else value.strip(),
        }
        for attribute, operator, value in zip(attributes, operators, values, strict=False)
    ]


def _groups(data: QueryDict, kind: str, *, limit: int, valueless: Any) -> list[dict[str, Any]]:
    """Numbered groups of conditions (``rule-0-…`` or ``group-0-…``), ``<kind>_count`` of them."""
    count = min(_count(data, f"{kind}_count"), limit)
    return [
        {
            "match": "any" if data.get(f"{kind}-{n}-match") == "any" else "all",
            "conditions": _conditions(data, f"{kind}-{n}", valueless=valueless),
        }
        for n in range(count)
    ]


def _condition_errors(
    conditions: Sequence[Mapping[str, Any]], attributes: Sequence[str]
) -> list[str]:
    errors = []
    for condition in conditions:
        if condition["attribute"] not in attributes:
            errors.append(f"Choose an attribute (not “{condition['attribute']}”).")
        if condition["operator"] not in OPERATORS:
            errors.append("Choose an operator.")
        value = condition["value"]
        if isinstance(value, str) and len(value) > MAX_NAME:
            errors.append(f"A value can be at most {MAX_NAME} characters.")
    return errors


class BranchForm(CardForm):
    @property
    def rows(self) -> list[dict[str, Any]]:
        """The rules: ``{"match", "conditions"}`` each."""
        if not self.is_bound:
            return [dict(r) for r in self.card.get("rules", [])]
        return _groups(_posted(self), "rule", limit=MAX_RULES, valueless=None)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        rules = self.rows
        for number, rule in enumerate(rules, start=1):
            if not rule["conditions"]:
                self.add_error(None, f"Rule {number} needs at least one condition.")
            for error in _condition_errors(rule["conditions"], self.attributes):
                self.add_error(None, f"Rule {number}: {error}")
        data["rules"] = rules
        return data


CARD_FORMS: dict[str, type[CardForm]] = {
    "message": MessageForm,
    "question": QuestionForm,
    "capture": CaptureForm,
    "meeting": MeetingForm,
    "goal": GoalForm,
    "branch": BranchForm,
}


class CreateDialogueForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    priority = forms.IntegerField(
        min_value=1, max_value=MAX_PRIORITY, initial=1, help_text=PRIORITY_HELP
    )
    site = forms.ModelChoiceField(queryset=Site.objects.all(), empty_label=None)
    template = forms.ChoiceField(
        label="Start from", choices=library.CHOICES, initial=library.BLANK, widget=forms.RadioSelect
    )


class TargetingForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    priority = forms.IntegerField(min_value=1, max_value=MAX_PRIORITY)
    include = forms.CharField(
        label="Show on pages", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One URL pattern per line, at most 20; * matches anything, e.g. "
        "https://www.example.com/pricing/*",
    )  # fmt: skip
    exclude = forms.CharField(
        label="Never on pages", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    trigger_kind = forms.ChoiceField(
        label="Show", choices=[(k, TRIGGER_LABELS[k]) for k in TRIGGER_KINDS]
    )
    trigger_amount = forms.IntegerField(
        label="Amount", min_value=0, max_value=MAX_TRIGGER_SECONDS, required=False
    )

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        initial: Mapping[str, Any],
        attributes: Collection[str],
    ) -> None:
        super().__init__(data, initial=dict(initial))
        self.attributes = sorted(attributes)

    @classmethod
    def initial_for(cls, dialogue: Dialogue) -> dict[str, Any]:
        targeting = dialogue.targeting
        trigger = targeting.get("trigger") or {}
        return {
            "name": dialogue.name,
            "description": dialogue.description,
            "priority": dialogue.priority,
            "include": "\n".join(targeting.get("include") or []),
            "exclude": "\n".join(targeting.get("exclude") or []),
            "trigger_kind": trigger.get("kind", "immediately"),
            "trigger_amount": trigger.get("amount", 0),
            "audience": targeting.get("audience") or [],
        }

    @property
    def groups(self) -> list[dict[str, Any]]:
        if not self.is_bound:
            return [dict(g) for g in self.initial.get("audience", [])]
        return _groups(_posted(self), "group", limit=MAX_GROUPS, valueless="")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["audience"] = self.groups
        for number, group in enumerate(data["audience"], start=1):
            for error in _condition_errors(group["conditions"], self.attributes):
                self.add_error(None, f"Group {number}: {error}")
        if data.get("trigger_kind") == "immediately":
            data["trigger_amount"] = 0
        return data

    def targeting(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "include": _lines(data["include"]),
            "exclude": _lines(data["exclude"]),
            "audience": data["audience"],
            "trigger": {"kind": data["trigger_kind"], "amount": data["trigger_amount"] or 0},
        }


class TestVisitorForm(forms.Form):
    url = forms.CharField(label="Page URL", max_length=2048)
    lead = forms.CharField(
        label="Lead email", required=False, max_length=255,
        help_text="A synced lead's email; leave empty for an anonymous visitor.",
    )  # fmt: skip

    def __init__(self, data: QueryDict | None = None) -> None:
        super().__init__(data)
        self.suggestions: list[MarketoLead] = []  # leads like the email typed, when none is it

    def clean_lead(self) -> MarketoLead | None:
        email = self.cleaned_data["lead"].strip()
        if not email:
            return None
        lead = MarketoLead.objects.filter(email__iexact=email).first()
        if lead is None:
            self.suggestions = list(MarketoLead.objects.search(email).order_by("email")[:8])
            raise forms.ValidationError("No synced lead has this email.")
        return lead


TestVisitorForm.__test__ = False  # type: ignore[attr-defined]
