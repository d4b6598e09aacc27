"""Microsoft sign-in: Entra ID v2.0 (openid-configuration, token), in Entra's shapes.

Refresh tokens rotate on every use; the replaced one is then refused (AADSTS70000), a revoked one
with AADSTS50173. The id_token is an unsigned JWT carrying the nonce sent to /authorize
(consent.py). Graph is in graph.py.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from calendars.sandbox.google import unsigned_jwt
from calendars.sandbox.http import App, Request, Response, json_response
from calendars.sandbox.state import MICROSOFT, account_id, pkce_matches

AADSTS = {
    70000: "The provided grant is invalid or malformed: the refresh token was already redeemed.",
    50173: "The provided grant has expired due to it being revoked, a fresh auth token is "
    "needed. The user might have changed or reset their password.",
    70008: "The provided authorization code or refresh token has expired due to inactivity.",
    9002313: "Invalid request. Request is malformed or invalid.",
    501481: "The Code_Verifier does not match the code_challenge supplied in the authorization "
    "request.",
    50148: "The redirect_uri does not match the one used to obtain the authorization code.",
    700016: "Application was not found in the directory.",
    7000215: "Invalid client secret provided.",
    900144: "The request body must contain the following parameter: 'grant_type'.",
    90033: "A transient error has occurred. Please try again.",
    50000: "There was an error issuing a token or an issue with our sign-in service.",
}


# Identity


def aad_error(error: str, code: int, status: int = 400) -> Response:
    trace = str(uuid.uuid4())
    return json_response(
        {
            "error": error,
            "error_description": f"AADSTS{code}: {AADSTS[code]} Trace ID: {trace}",
            "error_codes": [code],
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ"),
            "trace_id": trace,
            "correlation_id": str(uuid.uuid4()),
        },
        status,
    )


def openid_configuration(app: App, request: Request) -> Response:
    tenant, config = request.groups["tenant"], app.config
    base = f"{config.microsoft_base}/{tenant}"
    return json_response(
        {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "client_secret_basic",
            ],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["none"],
            "response_types_supported": ["code"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": config.issuer,
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{config.microsoft_base}/oidc/userinfo",
            # Browsers sign in on the plain listener: no certificate warning in the demo.
            "authorization_endpoint": f"{config.google_base}/{tenant}/oauth2/v2.0/authorize",
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "name", "oid", "tid"],
            "tenant_region_scope": None,
            "cloud_instance_name": "microsoftonline.com",
            "msgraph_host": "graph.microsoft.com",
        }
    )


def token(app: App, request: Request) -> Response:
    config, state = app.config, app.state
    client_id, secret = request.client_credentials()
    if client_id != config.ms_client_id:
        return aad_error("unauthorized_client", 700016)
    if secret != config.ms_client_secret:
        return aad_error("invalid_client", 7000215, 401)
    form = request.form
    grant = form.get("grant_type", "")
    if grant == "authorization_code":
        code = state.take_code(form.get("code", ""), MICROSOFT)
        if code is None or code.client_id != client_id:
            return aad_error("invalid_grant", 70008)
        if form.get("redirect_uri", "") != code.redirect_uri:
            return aad_error("invalid_grant", 50148)
        if not pkce_matches(code.challenge, code.challenge_method, form.get("code_verifier")):
            return aad_error("invalid_grant", 501481)
        scope = form.get("scope") or code.scope
        return _tokens(app, code.email, scope, code.nonce)
    if grant == "refresh_token":
        found = state.token(form.get("refresh_token", ""), MICROSOFT, "refresh")
        if found is None or found.client_id != client_id:
            return aad_error("invalid_grant", 9002313)
        with state.lock:
            status = found.status
            if status == "active":
                found.status = "rotated"
        if status == "revoked":
            return aad_error("invalid_grant", 50173)
        if status == "rotated":
            return aad_error("invalid_grant", 70000)
        return _tokens(app, found.email, form.get("scope") or found.scope, None)
    if not grant:
        return aad_error("invalid_request", 900144)
    return json_response(
        {"error": "unsupported_grant_type", "error_description": f"AADSTS70003: {grant}"}, 400
    )


def _tokens(app: App, email: str, scope: str, nonce: str | None) -> Response:
    config = app.config
    granted = " ".join(s for s in scope.split() if s != "offline_access")
    issued = app.state.issue(MICROSOFT, email, client_id=config.ms_client_id, scope=granted)
    oid = account_id(email)
    now = int(time.time())
    claims: dict[str, Any] = {
        "aud": config.ms_client_id,
        "iss": config.issuer,
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "name": display_name(email),
        "oid": oid,
        "preferred_username": email,
        "sub": oid,
        "tid": config.tenant_id,
        "ver": "2.0",
    }
    if nonce:
        claims["nonce"] = nonce
    client_info = json.dumps({"uid": oid, "utid": config.tenant_id}).encode()
    return json_response(
        {
            "token_type": "Bearer",
            "scope": granted,
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": issued["access_token"],
            "refresh_token": issued["refresh_token"],
            "id_token": unsigned_jwt(claims),
            "client_info": base64.urlsafe_b64encode(client_info).rstrip(b"=").decode(),
        }
    )


def display_name(email: str) -> str:
    return email.split("@")[0].replace(".", " ").title()
