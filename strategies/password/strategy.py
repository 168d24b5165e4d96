"""The password method: login and registration (settings arrives with the settings flow).

Unknown identifiers and wrong passwords are indistinguishable: same message (4000006) and the same
work, because an unknown identifier is verified against a dummy hash made with the configured hasher.
"""
from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Mapping
from typing import Any, ClassVar

from identities import hashing
from identities.models import CredentialIdentifier, Identity, IdentityCredential
from identities.schemas import get_schema, normalize_identifier
from kratos_project.config import get_config
from identities.services import set_password
from selfservice.flows.settings import ensure_privileged
from selfservice.models import LoginFlow, RegistrationFlow, SettingsFlow
from selfservice.traits import create_identity_from_traits
from selfservice.text import ui_text
from selfservice.ui import UIContainer, identifier_label, input_node, submit_node
from sessions_app.models import Session
from strategies.base import Authenticated, FlowValidationError, NotResponsible
from strategies.password.policy import check_password

logger = logging.getLogger("kratos.password")
METHOD = "password"


@functools.cache
def _dummy_hash(params: hashing.HasherParams) -> str:
    return hashing.hash_password(secrets.token_urlsafe(16), params)


def _invalid_credentials() -> FlowValidationError:
    return FlowValidationError([(None, ui_text(4000006))])


def _missing(name: str) -> tuple[str, dict[str, Any]]:
    return name, ui_text(4000002, property=name)


class PasswordStrategy:
    id: ClassVar[str] = METHOD

    # --- login -----------------------------------------------------------------------------

    def add_login_nodes(self, flow: LoginFlow, ui: UIContainer) -> None:
        _dummy_hash(get_config().hashers)  # warm it now so no submission pays for making it
        if flow.identity_id:  # refresh: the identity is known, only its password is asked
            identifier = _password_identifier(flow.identity_id)
            ui.upsert(input_node("identifier", "default", type="hidden", value=identifier))
        else:
            label = identifier_label(get_schema(flow.identity_schema or get_config().default_schema_id).document)
            ui.upsert(input_node("identifier", "default", value="", required=True, label=label))
        ui.upsert(input_node("password", METHOD, type="password", required=True, autocomplete="current-password",
                             label=ui_text(1070001)))
        ui.upsert(submit_node("method", METHOD, METHOD, ui_text(1010001 if flow.refresh else 1010022)))

    def login(self, flow: LoginFlow, payload: Mapping[str, Any]) -> Authenticated:
        if payload.get("method") != METHOD:
            raise NotResponsible()
        identifier = str(payload.get("identifier") or payload.get("password_identifier") or "")
        password = str(payload.get("password") or "")
        missing = [_missing(name) for name, value in (("identifier", identifier), ("password", password)) if not value]
        if missing:
            raise FlowValidationError(missing)
        credential = _password_credential(identifier)
        hashed = (credential.config.get("hashed_password") if credential else None) or ""
        if not hashed:
            hashing.verify_password(password, _dummy_hash(get_config().hashers))
            raise _invalid_credentials()
        if not hashing.verify_password(password, hashed):
            raise _invalid_credentials()
        if flow.identity_id and credential.identity_id != flow.identity_id:
            raise _invalid_credentials()  # a refresh must re-authenticate the same identity
        _upgrade_hash(credential, password)
        return Authenticated(identity=credential.identity, method=METHOD)

    # --- registration ------------------------------------------------------------------------

    def add_registration_nodes(self, flow: RegistrationFlow, ui: UIContainer, screen: str) -> None:
        if screen == "profile":
            return  # two-step registration asks for the password on the credential screen
        ui.upsert(input_node("password", METHOD, type="password", required=True, autocomplete="new-password",
                             label=ui_text(1070001)))
        ui.upsert(submit_node("method", METHOD, METHOD, ui_text(1040001)))

    def register(self, flow: RegistrationFlow, payload: Mapping[str, Any]) -> Identity:
        if payload.get("method") != METHOD:
            raise NotResponsible()
        password = payload.get("password")
        if not isinstance(password, str) or not password:
            raise FlowValidationError([_missing("password")])

        def policy(identifiers: dict[str, list[str]]) -> None:
            if violations := check_password(password, identifiers.get("password", [])):
                raise FlowValidationError([("password", v.as_ui_text()) for v in violations])

        return create_identity_from_traits(flow, payload, credentials={"password": {"config": {"password": password}}},
                                           before_create=policy)

    # --- settings ------------------------------------------------------------------------------

    def add_settings_nodes(self, flow: SettingsFlow, ui: UIContainer) -> None:
        ui.upsert(input_node("password", METHOD, type="password", required=True, autocomplete="new-password",
                             label=ui_text(1070001)))
        ui.upsert(submit_node("method", METHOD, METHOD, ui_text(1070003)))

    def update_settings(self, flow: SettingsFlow, payload: Mapping[str, Any], session: Session) -> None:
        if payload.get("method") != METHOD:
            raise NotResponsible()
        password = payload.get("password")
        if not isinstance(password, str) or not password:
            raise FlowValidationError([_missing("password")])
        ensure_privileged(flow, session)
        identifiers = get_schema(flow.identity.schema_id).validate(flow.identity.traits).identifiers
        if violations := check_password(password, identifiers.get("password", [])):
            raise FlowValidationError([("password", v.as_ui_text()) for v in violations])
        set_password(flow.identity, password)


def _password_credential(identifier: str) -> IdentityCredential | None:
    match = (CredentialIdentifier.objects.filter(type=METHOD, identifier=normalize_identifier(identifier))
             .select_related("credential__identity").first())
    return match.credential if match else None


def _password_identifier(identity_id: Any) -> str:
    match = CredentialIdentifier.objects.filter(type=METHOD, credential__identity_id=identity_id).first()
    return match.identifier if match else ""


def _upgrade_hash(credential: IdentityCredential, password: str) -> None:
    """An imported or weaker hash is replaced by the configured hasher's on a successful login."""
    params = get_config().hashers
    if not hashing.needs_rehash(credential.config["hashed_password"], params):
        return
    try:
        credential.config = {**credential.config, "hashed_password": hashing.hash_password(password, params)}
        credential.save(update_fields=["config", "updated_at"])
    except (hashing.PasswordTooLong, ValueError) as error:
        logger.warning("could not re-hash the password of identity %s: %s", credential.identity_id, error)


Strategy = PasswordStrategy
