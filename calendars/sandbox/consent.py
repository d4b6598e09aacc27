"""The authorize endpoints: a consent page with an "Allow" button, or auto-consent.

GET shows the page (or, with auto-consent on, redirects at once as that account); the page's form
POSTs back to the same path with every authorization parameter in hidden fields.
"""

from __future__ import annotations

import time
from html import escape
from urllib.parse import urlencode

from calendars.sandbox.http import App, Request, Response, html_response, redirect
from calendars.sandbox.state import CODE_SECONDS, GOOGLE, Code

KEPT = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "nonce",
    "login_hint",
    "access_type",
    "prompt",
    "include_granted_scopes",
    "response_mode",
)

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} — sign in (sandbox)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; background: #f4f5f7; margin: 0; }}
main {{ max-width: 26rem; margin: 4rem auto; background: #fff; padding: 2rem;
  border-radius: .5rem; box-shadow: 0 1px 4px rgba(0,0,0,.15); }}
h1 {{ font-size: 1.3rem; margin-top: 0; }}
label {{ display: block; margin: 1rem 0 .25rem; }}
input[type=email] {{ width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; }}
.buttons {{ display: flex; gap: .5rem; margin-top: 1.5rem; }}
button {{ padding: .5rem 1.2rem; font: inherit; border-radius: .25rem; border: 1px solid #888;
  background: #fff; cursor: pointer; }}
button[value=allow] {{ background: #1a73e8; border-color: #1a73e8; color: #fff; }}
.scopes {{ font-size: .9rem; color: #444; word-break: break-word; }}
</style></head>
<body><main>
<h1>{title}</h1>
<p>A calendar sandbox stands in for the provider. Choose the account that grants access.</p>
<p class="scopes">Requested access: {scopes}</p>
<form method="post" action="{action}">
{hidden}
<label for="email">E-mail address</label>
<input type="email" id="email" name="email" value="{email}" required autofocus>
<div class="buttons">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</div>
</form>
</main></body></html>
"""


def authorize(app: App, request: Request, provider: str) -> Response:
    params = request.form if request.method == "POST" else request.query
    config = app.config
    expected = config.google_client_id if provider == GOOGLE else config.ms_client_id
    redirect_uri = params.get("redirect_uri", "")
    if params.get("client_id") != expected:
        return _problem("invalid_client", "The OAuth client was not found.", 401)
    if not redirect_uri.startswith(("http://", "https://")):
        return _problem("invalid_request", "Missing or invalid redirect_uri.", 400)
    if params.get("response_type") != "code":
        return _back(redirect_uri, params, error="unsupported_response_type")
    method = params.get("code_challenge_method") or "plain"
    if params.get("code_challenge") and method not in ("S256", "plain"):
        return _back(redirect_uri, params, error="invalid_request")
    if request.method == "POST":
        if params.get("decision") != "allow":
            return _back(redirect_uri, params, error="access_denied")
        email = params.get("email", "").strip()
        if "@" not in email:
            return _page(request, provider, params, status=400)
        return _grant(app, provider, params, email)
    with app.state.lock:
        consent_as = app.state.consent_as
    if consent_as:
        return _grant(app, provider, params, consent_as)
    return _page(request, provider, params)


def _grant(app: App, provider: str, params: dict[str, str], email: str) -> Response:
    code = app.state.new_code(
        Code(
            provider=provider,
            email=email.lower(),
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            scope=params.get("scope", ""),
            challenge=params.get("code_challenge") or None,
            challenge_method=params.get("code_challenge_method") or "plain",
            nonce=params.get("nonce") or None,
            expires_at=time.time() + CODE_SECONDS,
        )
    )
    if provider == GOOGLE:
        return _back(
            params["redirect_uri"],
            params,
            code=code,
            scope=params.get("scope", ""),
            authuser="0",
            prompt="consent",
            iss="https://accounts.google.com",
        )
    return _back(params["redirect_uri"], params, code=code)


def _back(redirect_uri: str, params: dict[str, str], **answer: str) -> Response:
    """Redirect to the client's redirect URI with the answer and the state."""
    if "state" in params:
        answer["state"] = params["state"]
    separator = "&" if "?" in redirect_uri else "?"
    return redirect(redirect_uri + separator + urlencode(answer))


def _page(request: Request, provider: str, params: dict[str, str], status: int = 200) -> Response:
    hidden = "\n".join(
        f'<input type="hidden" name="{name}" value="{escape(params[name])}">'
        for name in KEPT
        if name in params
    )
    title = "Google Calendar" if provider == GOOGLE else "Microsoft Outlook"
    return html_response(
        PAGE.format(
            title=title,
            scopes=escape(params.get("scope", "")),
            action=escape(request.path),
            hidden=hidden,
            email=escape(params.get("email") or params.get("login_hint", "")),
        ),
        status,
    )


def _problem(error: str, description: str, status: int) -> Response:
    return html_response(
        f"<!doctype html><title>Error</title><h1>Error: {escape(error)}</h1>"
        f"<p>{escape(description)}</p>",
        status,
    )
