"""The Configuration page's form as a browser posts it, for the tests that save it."""

from __future__ import annotations

from dynchat.models import Site
from widget.appearance import Appearance
from widget.forms import AppearanceForm


def configuration_form(site: Site, **changes: object) -> dict[str, str]:
    """The page's main form for ``site`` as it is rendered, with ``changes``; unticked boxes and
    ``None`` are left out, as browsers leave them out."""
    fields: dict[str, object] = {
        **AppearanceForm.initial_for(Appearance.from_json(site.appearance)),
        "name": site.name,
        "allowed_origins": "\n".join(site.allowed_origins),
        "require_consent": site.require_consent,
        "verify_identity": site.verify_identity,
        **changes,
    }
    return {
        name: "on" if value is True else str(value)
        for name, value in fields.items()
        if value is not False and value is not None
    }
