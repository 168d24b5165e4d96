"""What the code and link strategies hand to the courier, and how they find the address a user typed.

Template data uses the names of Kratos's courier models (`courier/template/email/*.go`): `to` (added
by the courier), `identity` (the public identity JSON), `request_url`, `transient_payload`,
`expires_in_minutes`, plus the code or URL of each template. Messages are only queued here, inside
the request's transaction; the courier worker sends them.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from courier.services import enqueue_email, enqueue_sms
from identities.api.serializers import identity_json
from identities.models import AddressVia, Identity, RecoveryAddress, VerifiableAddress
from identities.schemas import normalize_address
from kratos_project.config import get_config
from selfservice.models import Flow
from selfservice.text import ui_text
from strategies.base import FlowValidationError


def template_data(flow: Flow, identity: Identity | None = None, **fields: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"request_url": flow.request_url, "transient_payload": flow.transient_payload or {}}
    if identity is not None:
        data["identity"] = identity_json(identity, admin=False)
    return {**data, **fields}


def minutes(lifespan: timedelta) -> int:
    return int(lifespan.total_seconds() // 60)


def send(via: str, to: str, template_type: str, data: dict[str, Any]) -> None:
    if via == AddressVia.SMS:
        enqueue_sms(to=to, template_type=template_type, data=data)
    else:
        enqueue_email(to=to, template_type=template_type, data=data)


def notify_stranger(flow_name: str, flow: Flow, email: str, template_type: str) -> None:
    """The notice to an address that belongs to nobody (an `…_invalid` template), sent only with
    `selfservice.flows.<flow_name>.notify_unknown_recipients`; else nothing is sent."""
    if get_config().get(f"selfservice.flows.{flow_name}.notify_unknown_recipients"):
        send(AddressVia.EMAIL, email, template_type, template_data(flow))


def required_email(payload: dict[str, Any] | Any) -> str:
    """The submitted `email`, trimmed and checked by `require_email`."""
    email = submitted_email(payload)
    require_email(email)
    return email


def submitted_email(payload: dict[str, Any] | Any) -> str:
    value = payload.get("email")
    return value.strip() if isinstance(value, str) else ""


def require_email(email: str) -> None:
    """The `email` field of a recovery or verification submission: present, and an email address
    (the `format: email` of Kratos's method schemas), else a message on the `email` node."""
    if not email:
        raise FlowValidationError([("email", ui_text(4000002, property="email"))])
    try:
        validate_email(email)
    except ValidationError as error:
        raise FlowValidationError([("email", ui_text(4000040, value=email))]) from error


def find_verifiable_address(email: str) -> VerifiableAddress | None:
    return (VerifiableAddress.objects.filter(via=AddressVia.EMAIL, value=normalize_address(AddressVia.EMAIL, email))
            .select_related("identity").first())


def find_recovery_address(email: str) -> RecoveryAddress | None:
    return (RecoveryAddress.objects.filter(via=AddressVia.EMAIL, value=normalize_address(AddressVia.EMAIL, email))
            .select_related("identity").first())
