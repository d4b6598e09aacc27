"""The Calendar page: an agent connects (or disconnects) their calendar and sets booking rules;
a marketer sees every agent's calendar status.

The OAuth dance: ``connect`` (POST) sends the agent to the provider, which sends them back to
``callback`` (GET, the provider in the path); see calendars.oauth for what the callback must match.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.csp import CSP
from django.views.decorators.http import require_GET, require_POST

from calendars import oauth, services
from calendars.forms import TOKENS, ConnectForm, RulesForm
from calendars.models import BookingRules, CalendarConnection, Provider
from calendars.providers.base import AuthorizationFailed, CalendarError
from dynchat.access import team_required
from dynchat.http import AuthedRequest
from dynchat.models import Role, User

logger = logging.getLogger("calendars")

PAGE = "calendars/calendar.html"
AGENTS_PER_PAGE = 50


def require_agent(request: AuthedRequest) -> None:
    """Calendars are the agents' own: a marketer sees their status but connects none."""
    if request.user.role != Role.AGENT:
        raise PermissionDenied


def agent_page(request: AuthedRequest, status: int = 200, **context: Any) -> HttpResponse:
    """The agent's Calendar page; its policy lets the connect form lead on to the providers."""
    response = render(request, PAGE, agent_context(request.user, **context), status=status)
    policy: dict[str, Any] = dict(settings.SECURE_CSP)
    allowed: list[str] = list(policy.get("form-action", [CSP.SELF]))
    policy["form-action"] = [*allowed, *oauth.authorization_origins()]
    setattr(response, "_csp_config", policy)  # noqa: B010 (read by Django's CSP middleware)
    return response


def agent_context(agent: User, form: RulesForm | None = None, **extra: Any) -> dict[str, Any]:
    if form is None:
        # The defaults until the agent saves: a page view writes nothing.
        rules = BookingRules.objects.filter(agent=agent).first() or BookingRules(agent=agent)
        form = RulesForm(initial=RulesForm.initial_for(agent, rules))
    connection = CalendarConnection.objects.filter(agent=agent).first()
    return {"connection": connection, "form": form, "tokens": TOKENS, **extra}


def marketer_context(page: str | None) -> dict[str, Any]:
    agents = User.objects.filter(role=Role.AGENT).select_related("calendar_connection")
    agents_page = Paginator(agents.order_by("name", "email"), AGENTS_PER_PAGE).get_page(page)
    rows = [(agent, getattr(agent, "calendar_connection", None)) for agent in agents_page]
    return {"agents_page": agents_page, "rows": rows}


@team_required
@require_GET
def calendar(request: AuthedRequest) -> HttpResponse:
    if request.user.role == Role.MARKETER:
        return render(request, PAGE, marketer_context(request.GET.get("page")))
    return agent_page(request)


@team_required
@require_POST
def connect(request: AuthedRequest) -> HttpResponse:
    require_agent(request)
    form = ConnectForm(request.POST)
    if not form.is_valid():
        return agent_page(request, status=400)
    return redirect(oauth.begin(request, form.cleaned_data["provider"]))


@team_required
@require_GET
def callback(request: AuthedRequest, provider: str) -> HttpResponse:
    if provider not in Provider.values:
        raise Http404
    require_agent(request)
    try:
        grant = oauth.finish(request, provider, request.GET)
        services.store_connection(request.user, provider, grant)
    except oauth.OAuthRefused as refused:
        problem = f"The calendar was not connected ({refused.reason}). Please try again."
        return agent_page(request, status=400, problem=problem)
    except AuthorizationFailed as error:  # e.g. no offline access granted
        logger.warning("Connecting %s for user %s failed: %s", provider, request.user.pk, error)
        problem = f"The calendar was not connected ({error}). Please try again."
        return agent_page(request, status=400, problem=problem)
    except CalendarError as error:
        logger.warning("Connecting %s for user %s failed: %s", provider, request.user.pk, error)
        problem = f"{Provider(provider).label} could not be reached. Try again in a minute."
        return agent_page(request, status=503, problem=problem)
    messages.success(request, f"{Provider(provider).label} connected.")
    return redirect("calendars:calendar")


@team_required
@require_POST
def disconnect(request: AuthedRequest) -> HttpResponseRedirect:
    require_agent(request)
    services.disconnect(request.user)
    logger.info("User %s disconnected their calendar", request.user.pk)
    messages.success(request, "Calendar disconnected. You are out of the meeting rotation.")
    return redirect("calendars:calendar")


@team_required
@require_POST
def rules(request: AuthedRequest) -> HttpResponse:
    require_agent(request)
    form = RulesForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            return render(request, f"{PAGE}#rules-form", {"form": form, "tokens": TOKENS})
        return agent_page(request, status=400, form=form)
    services.save_rules(request.user, form.cleaned_data)
    if request.htmx:
        context = {"form": form, "tokens": TOKENS, "saved": True}
        return render(request, f"{PAGE}#rules-form", context)
    messages.success(request, "Booking rules saved.")
    return redirect("calendars:calendar")
