"""Traits in flows: the form fields, their values, validating them and creating the identity from them."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from identities.models import Identity
from identities.schemas import IdentitySchema, get_schema
from identities.services import IdentityDraft, create_identity
from kratos_project.config import get_config
from kratos_project.errors import Conflict, SchemaValidationError
from selfservice.models import Flow, RegistrationFlow
from selfservice.text import ui_text
from selfservice.ui import UIContainer, flatten, scalar_traits, trait_nodes
from selfservice.validation import trait_messages
from strategies.base import FlowValidationError


def flow_schema(flow: Flow) -> IdentitySchema:
    return get_schema(flow.identity_schema or get_config().default_schema_id)


def add_trait_nodes(flow: Flow, ui: UIContainer, *, hidden: bool = False, group: str = "default") -> None:
    for node in trait_nodes(flow_schema(flow).document, group=group):
        if hidden:
            node["attributes"]["type"] = "hidden"
        ui.upsert(node)


def submitted_traits(flow: Flow, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The traits of a submission; form strings become the booleans and numbers the schema wants."""
    traits = payload.get("traits")
    if not isinstance(traits, Mapping):
        return {}
    kinds = {name: prop.get("type") for name, prop, _ in scalar_traits(flow_schema(flow).document)}
    return _coerce(traits, "traits", kinds)


def _coerce(document: Mapping[str, Any], prefix: str, kinds: Mapping[str, Any]) -> dict[str, Any]:
    coerced: dict[str, Any] = {}
    for key, value in document.items():
        name = f"{prefix}.{key}"
        if isinstance(value, Mapping):
            coerced[key] = _coerce(value, name, kinds)
        elif isinstance(value, str):
            coerced[key] = _from_form(value, kinds.get(name))
        else:
            coerced[key] = value
    return coerced


def _from_form(value: str, kind: Any) -> Any:
    """As Kratos decodes a form against the schema: "true"/"on" → True, "42" → 42, else unchanged."""
    if kind == "boolean" and value.lower() in ("true", "on", "1", "false", "off", "0"):
        return value.lower() in ("true", "on", "1")
    if kind in ("integer", "number"):
        try:
            return int(value) if kind == "integer" else float(value)
        except ValueError:
            return value  # left for the schema to reject with its own message
    return value


def show_traits(ui: UIContainer, traits: Mapping[str, Any], group: str = "default") -> None:
    """Put trait values into their inputs (what was submitted, or the identity's current traits)."""
    ui.set_values(flatten(traits, "traits"), group=group)


def validate_traits(flow: Flow, traits: Mapping[str, Any]) -> dict[str, list[str]]:
    """The traits' credential identifiers, or FlowValidationError with messages on the trait nodes."""
    try:
        return flow_schema(flow).validate(traits).identifiers
    except SchemaValidationError as error:
        raise FlowValidationError(trait_messages(error)) from error


def create_identity_from_traits(
    flow: RegistrationFlow, payload: Mapping[str, Any], *, credentials: Mapping[str, Any],
    before_create: Callable[[dict[str, list[str]]], None],
) -> Identity:
    """Validate the traits, let the strategy check its secret against the identifiers, then create."""
    traits = submitted_traits(flow, payload)
    identifiers = validate_traits(flow, traits)
    before_create(identifiers)
    draft = IdentityDraft(traits=traits, schema_id=flow_schema(flow).id, credentials=credentials,
                          organization_id=flow.organization_id)
    try:
        return create_identity(draft)
    except Conflict as error:
        raise FlowValidationError([(None, ui_text(4000007))]) from error
