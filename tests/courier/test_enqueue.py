"""Queueing messages (the flows' interface) and the templates they are rendered from."""
from __future__ import annotations

import base64
from pathlib import Path

import pytest

from courier import services, templates
from courier.models import Message

pytestmark = pytest.mark.django_db

SAMPLE_DATA = {
    "recovery_code": "111111", "recovery_url": "http://127.0.0.1:4433/r?token=r1",
    "verification_code": "222222", "verification_url": "http://127.0.0.1:4433/v?token=v1",
    "login_code": "333333", "registration_code": "444444", "subject": "Stub subject", "body": "Stub body",
    "expires_in_minutes": 15, "identity": {"traits": {"email": "ada@example.org"}}, "request_url": "",
    "transient_payload": {},
}
# The value each template must show, so a template that forgot its code or link fails here.
SHOWS = {
    "recovery_valid": "http://127.0.0.1:4433/r?token=r1", "recovery_code_valid": "111111",
    "verification_valid": "http://127.0.0.1:4433/v?token=v1", "verification_code_valid": "222222",
    "login_code_valid": "333333", "registration_code_valid": "444444", "stub": "Stub body",
    "recovery_invalid": "ada@example.org", "recovery_code_invalid": "ada@example.org",
    "verification_invalid": "ada@example.org", "verification_code_invalid": "ada@example.org",
}


def _b64(text: str) -> str:
    return "base64://" + base64.b64encode(text.encode()).decode()


def test_enqueue_email_renders_and_queues_without_sending(network):
    message = services.enqueue_email(to="ada@example.org", template_type="recovery_code_valid",
                                     data={"recovery_code": "123456", "expires_in_minutes": 60})

    stored = Message.objects.get(id=message.id)
    assert (stored.status, stored.type, stored.channel, stored.send_count) == ("queued", "email", "email", 0)
    assert (stored.recipient, stored.template_type) == ("ada@example.org", "recovery_code_valid")
    assert stored.nid_id == network
    assert stored.subject == "Your account recovery code"
    assert "123456" in stored.body and "60 minutes" in stored.body
    assert "<strong>123456</strong>" in stored.html_body
    assert stored.template_data == {"recovery_code": "123456", "expires_in_minutes": 60, "to": "ada@example.org"}
    assert stored.dispatches.count() == 0


@pytest.mark.parametrize("template_type", templates.EMAIL_TEMPLATE_TYPES)
def test_every_email_template_renders_its_code_or_link(template_type):
    rendered = templates.render_email(template_type, {**SAMPLE_DATA, "to": "ada@example.org"})

    assert rendered.subject and "\n" not in rendered.subject
    assert SHOWS[template_type] in rendered.body
    assert SHOWS[template_type] in rendered.html_body


@pytest.mark.parametrize("template_type", templates.SMS_TEMPLATE_TYPES)
def test_every_sms_template_renders_its_code(template_type):
    text = templates.render_sms(template_type, {**SAMPLE_DATA, "to": "+15550001111"})

    assert SHOWS[template_type] in text and text == text.strip()


def test_plain_text_is_not_html_escaped_but_html_is():
    data = {"to": "a@example.org", "verification_url": "http://x.test/v?flow=1&token=<2>"}

    rendered = templates.render_email("verification_valid", data)

    assert "http://x.test/v?flow=1&token=<2>" in rendered.body
    assert "http://x.test/v?flow=1&amp;token=&lt;2&gt;" in rendered.html_body


def test_config_uri_overrides_win(network, kratos_env):
    kratos_env(
        COURIER_TEMPLATES_RECOVERY_CODE_VALID_EMAIL_SUBJECT=_b64("Code for {{ to }}"),
        COURIER_TEMPLATES_RECOVERY_CODE_VALID_EMAIL_BODY_HTML=_b64("<b>{{ recovery_code }}</b>"),
        COURIER_TEMPLATES_RECOVERY_CODE_VALID_EMAIL_BODY_PLAINTEXT=_b64("code={{ recovery_code }}"),
        # Kratos's schema wants an `email` entry beside an `sms` one.
        COURIER_TEMPLATES_VERIFICATION_CODE_VALID_EMAIL_SUBJECT=_b64("Verify"),
        COURIER_TEMPLATES_VERIFICATION_CODE_VALID_SMS_BODY_PLAINTEXT=_b64("sms {{ verification_code }}"),
    )

    email = services.enqueue_email(to="ada@example.org", template_type="recovery_code_valid",
                                   data={"recovery_code": "555"})
    sms = services.enqueue_sms(to="+15550001111", template_type="verification_code_valid",
                               data={"verification_code": "777"})

    assert (email.subject, email.body, email.html_body) == ("Code for ada@example.org", "code=555", "<b>555</b>")
    assert sms.body == "sms 777"


def test_file_uri_override(network, kratos_env, tmp_path: Path):
    (tmp_path / "subject.txt").write_text("Welcome {{ to }}")
    kratos_env(COURIER_TEMPLATES_LOGIN_CODE_VALID_EMAIL_SUBJECT=(tmp_path / "subject.txt").as_uri())

    message = services.enqueue_email(to="ada@example.org", template_type="login_code_valid", data={"login_code": "1"})

    assert message.subject == "Welcome ada@example.org"
    assert "1" in message.body  # the parts without an override stay ours


def test_template_override_path_replaces_single_files(network, kratos_env, tmp_path: Path):
    (tmp_path / "verification_valid").mkdir()
    (tmp_path / "verification_valid" / "email.body.txt").write_text("Click {{ verification_url }}")
    kratos_env(COURIER_TEMPLATE_OVERRIDE_PATH=str(tmp_path))

    message = services.enqueue_email(to="ada@example.org", template_type="verification_valid",
                                     data={"verification_url": "http://x.test/v"})

    assert message.body == "Click http://x.test/v"
    assert message.subject == "Confirm your email address"  # not overridden: ours


def test_invalid_recipient_is_refused(network):
    with pytest.raises(ValueError, match="not a valid email address"):
        services.enqueue_email(to="not an address", template_type="stub", data={"subject": "s", "body": "b"})
    assert Message.objects.count() == 0


def test_unknown_template_types_are_refused(network):
    with pytest.raises(templates.TemplateError):
        services.enqueue_email(to="ada@example.org", template_type="password_reset", data={})
    with pytest.raises(templates.TemplateError, match="no SMS template"):
        services.enqueue_sms(to="+15550001111", template_type="recovery_valid", data={})


def test_broken_override_is_reported(network, kratos_env):
    kratos_env(COURIER_TEMPLATES_RECOVERY_VALID_EMAIL_SUBJECT=_b64("{% if %}"))

    with pytest.raises(templates.TemplateError, match="invalid"):
        services.enqueue_email(to="ada@example.org", template_type="recovery_valid", data={"recovery_url": "u"})
