"""UI text messages rendered as Kratos's `text` package builds them (texts from ui-text-ids.json)."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kratos_project import clock
from kratos_project.jsontime import rfc3339
from selfservice.text import CATALOGUE_PATH, ui_text


def test_message_without_context_has_no_context_key() -> None:
    assert ui_text(1010001) == {"id": 1010001, "text": "Sign in", "type": "info"}
    assert ui_text(4000006) == {
        "id": 4000006,
        "text": "The provided credentials are invalid, check for spelling mistakes in your password or "
        "username, email address, or phone number.",
        "type": "error",
    }


def test_placeholders_are_filled_from_the_context() -> None:
    assert ui_text(4000032, min_length=8, actual_length=5) == {
        "id": 4000032,
        "text": "The password must be at least 8 characters long, but got 5.",
        "type": "error",
        "context": {"min_length": 8, "actual_length": 5},
    }
    assert ui_text(4000002, property="email")["text"] == "Property email is missing."


def test_context_keys_without_placeholder_are_kept() -> None:
    message = ui_text(4000034, breaches=12)
    assert message["text"] == "The password has been found in data breaches and must no longer be used."
    assert message["context"] == {"breaches": 12}


def test_unknown_id_and_missing_context_are_programming_errors() -> None:
    with pytest.raises(LookupError):
        ui_text(4999999)
    with pytest.raises(KeyError, match="min_length"):
        ui_text(4000032, actual_length=5)


def test_free_form_text_for_ids_kratos_fills_itself() -> None:
    assert ui_text(1070000, text="fo****@ex*****.com") == {"id": 1070000, "text": "fo****@ex*****.com", "type": "info"}


def test_flow_expiry_counts_minutes_on_the_clock_and_keeps_the_time_in_context() -> None:
    clock.advance(timedelta(days=3))
    expired_at = clock.now() - timedelta(minutes=1, seconds=30)

    message = ui_text(4010001, expired_at=expired_at, expired_at_unix=int(expired_at.timestamp()))

    assert message["text"] == "The login flow expired 1.50 minutes ago, please try again."
    assert message["context"]["expired_at"] == rfc3339(expired_at)
    assert message["context"]["expired_at_unix"] == int(expired_at.timestamp())


def test_minutes_until_from_the_unix_time_alone() -> None:
    until = int((clock.now() + timedelta(minutes=10)).timestamp()) + 1
    text = ui_text(1060001, privileged_session_expires_at_unix=until)["text"]
    assert re.search(r"within the next 10\.\d\d minutes\.$", text)


def test_lists_are_joined_as_kratos_joins_them() -> None:
    assert ui_text(4000026, allowed_types=["string", "number"], actual_type="boolean")["text"] == (
        "expected string or number, but got boolean"
    )
    secrets = [ui_text(1050009, secret="abcd-1234"), ui_text(1050009, secret="efgh-5678")]
    assert ui_text(1050015, secrets=secrets)["text"] == "abcd-1234, efgh-5678"


def test_go_value_formatting() -> None:
    assert ui_text(4000020, maximum=1e6, actual=1234567.5)["text"] == "must be <= 1e+06 but found 1.2345675e+06"
    assert ui_text(4000018, minimum=0.5, actual=-3)["text"] == "must be >= 0.5 but found -3"
    assert ui_text(4000029, expected=True)["text"] == "must be equal to constant true"
    used_at = datetime(2020, 1, 1, 0, 59, 59, tzinfo=UTC)
    assert ui_text(1050014, used_at=used_at, used_at_unix=1577840399)["text"] == (
        "Secret was used at 2020-01-01 00:59:59 +0000 UTC"
    )


def test_quoted_placeholders_are_escaped_like_gos_q_verb() -> None:
    assert ui_text(4000004, pattern=r"^\d+$")["text"] == r'does not match pattern "^\\d+$"'


def test_duplicate_credentials_hint_is_assembled_from_the_context() -> None:
    message = ui_text(
        4000028,
        available_credential_types=["password", "oidc", "saml"],
        available_oidc_providers=["github", "{custom}"],
        credential_identifier_hint="",
    )
    assert message["text"] == (
        "You tried signing in with an email, phone, or username which is already in use by another account. "
        "You can sign in using your password, or social sign in. "
        "You can sign in using one of the following social sign in providers: Github, {custom}."
    )
    assert ui_text(
        4000028, available_credential_types=[], available_oidc_providers=[],
        credential_identifier_hint="ada@example.org",
    )["text"] == "You tried signing in with ada@example.org which is already in use by another account."


def _sample_context(template: str, keys: list[str]) -> dict[str, Any]:
    placeholders = set(re.findall(r"\{(\w+)\}", template))
    context: dict[str, Any] = {}
    for key in keys:
        if f"{key}_list" in placeholders:
            context[key] = ["a", "b"]
        elif any(p.startswith(f"{key}_unix_") for p in placeholders) or key.endswith("_at"):
            context[key] = clock.now()
        elif key.endswith("_unix"):
            context[key] = 1577840399
        else:
            context[key] = "x"
    return context


_CATALOGUE = [m for m in json.loads(CATALOGUE_PATH.read_text())["messages"] if m["text"] and m["variants"]]


@pytest.mark.parametrize("entry", _CATALOGUE, ids=[str(m["id"]) for m in _CATALOGUE])
def test_every_catalogue_message_renders_from_its_context_keys(entry: dict[str, Any]) -> None:
    [variant] = entry["variants"]
    message = ui_text(entry["id"], **_sample_context(entry["text"], variant["context_keys"]))
    assert message["type"] == entry["type"]
    assert not re.search(r"\{\w+\}", message["text"])
