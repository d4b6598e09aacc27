"""The demo data `manage.py run` loads, so a new user sees Dynchat working at once.

Idempotent: a second run finds everything in place and only refreshes what it must (the demo
accounts' passwords, the demo host page's origin).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from dynchat.models import Role, Site, User

MARKETER_EMAIL = "marketer@demo.dynchat.test"
AGENT_EMAIL = "agent@demo.dynchat.test"
SITE_NAME = "Demo site"
# The demo site's widget (read by widget.appearance.Appearance; set once, so a marketer's changes
# survive the next run): a deep green, a named bot, the poke on.
DEMO_APPEARANCE = {
    "primary": "#0b6e4f",
    "background": "#ffffff",
    "text": "#1d2433",
    "bot_bubble": "#e8f3ee",
    "visitor_bubble": "#0b6e4f",
    "font": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif",
    "position": "right",
    "offset_x": 24,
    "offset_y": 24,
    "icon": "dots",
    "bot_name": "Ada from Acme",
    "delay_ms": 700,
    "poke": True,
    "poke_mobile": False,
}


@dataclass(frozen=True)
class DemoLogins:
    marketer_password: str
    agent_password: str


def ensure_user(*, email: str, name: str, role: Role, time_zone: str, password: str) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email, name=name, role=role, time_zone=time_zone)
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def load_demo(*, host_origin: str, logins: DemoLogins) -> dict[str, str]:
    """Create or refresh the demo marketer, agent and site; return what the banner prints."""
    ensure_user(
        email=MARKETER_EMAIL,
        name="Maya Marketer",
        role=Role.MARKETER,
        time_zone="Europe/Berlin",
        password=logins.marketer_password,
    )
    ensure_user(
        email=AGENT_EMAIL,
        name="Alex Agent",
        role=Role.AGENT,
        time_zone="America/New_York",
        password=logins.agent_password,
    )
    site = Site.objects.filter(name=SITE_NAME).first() or Site.objects.create(
        name=SITE_NAME, require_consent=False, appearance=DEMO_APPEARANCE
    )
    if host_origin not in site.allowed_origins:
        site.allowed_origins = [*site.allowed_origins, host_origin]
        site.save(update_fields=["allowed_origins", "updated_at"])
    return {
        "marketer_email": MARKETER_EMAIL,
        "marketer_password": logins.marketer_password,
        "agent_email": AGENT_EMAIL,
        "agent_password": logins.agent_password,
        "site_key": site.key,
    }
