"""The demo's dialogues: the three templates, published on the demo site.

Idempotent: dialogues are only created while the demo site has none, so a marketer's changes to
them survive the next ``manage.py run``.
"""

from __future__ import annotations

from django.db import transaction

from dialogues import library, services
from dialogues.models import Dialogue
from dynchat.demo import SITE_NAME
from dynchat.models import Site

PRIORITIES = {library.QUALIFY.key: 1, library.CAPTURE_EMAIL.key: 2, library.WELCOME.key: 3}


@transaction.atomic
def load_demo() -> dict[str, str]:
    """Create and publish the template dialogues on the demo site; say what was created."""
    site = Site.objects.filter(name=SITE_NAME).first()
    if site is None or not site.allowed_origins or Dialogue.objects.of_site(site).exists():
        return {}
    for key, priority in PRIORITIES.items():
        template = library.TEMPLATES[key]
        dialogue = services.create_dialogue(
            site=site,
            name=template.name,
            description=template.description,
            priority=priority,
            flow=template.flow,
            targeting=template.targeting(site.allowed_origins),
        )
        services.publish(dialogue)
    return {"dialogues": ", ".join(library.TEMPLATES[key].name for key in PRIORITIES)}
