"""Flow JSON as Kratos serialises it (`loginFlow`, `recoveryFlow`, … in the OpenAPI spec), and `continue_with` items."""
from __future__ import annotations

from typing import Any

from kratos_project.jsontime import rfc3339
from identities.api.serializers import identity_json
from selfservice.models import Flow, LoginFlow, RegistrationFlow, SettingsFlow


def flow_json(flow: Flow) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": str(flow.id),
        "type": flow.type,
        "expires_at": rfc3339(flow.expires_at),
        "issued_at": rfc3339(flow.issued_at),
        "request_url": flow.request_url,
    }
    if flow.return_to:
        body["return_to"] = flow.return_to
    if flow.active:
        body["active"] = flow.active
    body["ui"] = flow.ui
    # Only login and registration flows have an organization and a chosen schema in Kratos (the
    # settings flow's schema is its identity's): the SDK's settingsFlow model rejects both fields.
    with_schema = isinstance(flow, LoginFlow | RegistrationFlow)
    if with_schema:
        # A Go NullUUID is a struct, which `omitempty` never omits: it is always there, null when unset.
        body["organization_id"] = str(flow.organization_id) if flow.organization_id else None
    if flow.transient_payload:
        body["transient_payload"] = flow.transient_payload
    if with_schema and flow.identity_schema:
        body["identity_schema"] = flow.identity_schema
    body["state"] = flow.state
    if isinstance(flow, SettingsFlow):
        body["identity"] = identity_json(flow.identity, admin=False)
    if isinstance(flow, LoginFlow):
        body["created_at"] = rfc3339(flow.created_at)
        body["updated_at"] = rfc3339(flow.updated_at)
        body["refresh"] = flow.refresh
        body["requested_aal"] = flow.requested_aal
    return body


def redirect_browser_to(url: str) -> dict[str, str]:
    return {"action": "redirect_browser_to", "redirect_browser_to": url}


def set_ory_session_token(token: str) -> dict[str, str]:
    return {"action": "set_ory_session_token", "ory_session_token": token}


def show_settings_ui(flow_id: Any, url: str) -> dict[str, Any]:
    return {"action": "show_settings_ui", "flow": {"id": str(flow_id), "url": url}}
