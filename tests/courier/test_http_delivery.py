"""SMS (and email) over Kratos's HTTP channel config, against a real local HTTP server."""
from __future__ import annotations

import base64
import json

import pytest

from courier import services
from courier.dispatcher import dispatch_queue
from courier.models import Message

pytestmark = pytest.mark.django_db


def _b64(text: str) -> str:
    return "base64://" + base64.b64encode(text.encode()).decode()


def _channels(kratos_env, **request_config) -> None:
    kratos_env(COURIER_CHANNELS=json.dumps([{"id": "sms", "type": "http", "request_config": request_config}]))


def _queue_sms(template_type: str = "verification_code_valid", **data) -> Message:
    return services.enqueue_sms(to="+15550001111", template_type=template_type,
                                data=data or {"verification_code": "731946", "expires_in_minutes": 10})


def test_sms_is_posted_with_kratos_default_body_and_basic_auth(http_endpoint, kratos_env, network):
    _channels(kratos_env, url=f"{http_endpoint.url}/sms", method="POST",
              headers={"X-Tenant": "acme"}, auth={"type": "basic_auth", "config": {"user": "u", "password": "p w"}})
    message = _queue_sms()

    assert dispatch_queue().sent == [message.id]

    [request] = http_endpoint.requests
    assert (request.method, request.path) == ("POST", "/sms")
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Tenant"] == "acme"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"u:p w").decode()
    assert json.loads(request.body) == {
        "recipient": "+15550001111", "template_type": "verification_code_valid", "to": "+15550001111",
        "recovery_code": None, "recovery_url": None, "verification_url": None, "verification_code": "731946",
        "subject": "", "body": "Your verification code is 731946 (valid for 10 minutes).",
    }
    message.refresh_from_db()
    assert (message.status, message.type, message.channel) == ("sent", "sms", "sms")


def test_sms_recovery_code_is_also_under_verification_code_as_in_kratos(http_endpoint, kratos_env, network):
    _channels(kratos_env, url=http_endpoint.url)
    _queue_sms("recovery_code_valid", recovery_code="202020")

    dispatch_queue()

    body = json.loads(http_endpoint.requests[0].body)
    assert (body["recovery_code"], body["verification_code"]) == ("202020", "202020")


def test_body_template_with_django_syntax_and_api_key_header(http_endpoint, kratos_env, network):
    template = ('{"to": {{ ctx.recipient|json }}, "text": {{ ctx.body|json }}, '
                '"code": {{ ctx.template_data.verification_code|json }}, "kind": {{ ctx.message_type|json }}}')
    _channels(kratos_env, url=http_endpoint.url, method="PUT", body=_b64(template),
              auth={"type": "api_key", "config": {"name": "X-Api-Key", "value": "k3y", "in": "header"}})
    _queue_sms()

    dispatch_queue()

    [request] = http_endpoint.requests
    assert request.method == "PUT" and request.headers["X-Api-Key"] == "k3y"
    assert json.loads(request.body) == {"to": "+15550001111", "text": "Your verification code is 731946 (valid for 10 "
                                        "minutes).", "code": "731946", "kind": "sms"}


def test_form_encoded_body_and_api_key_cookie(http_endpoint, kratos_env, network):
    _channels(kratos_env, url=http_endpoint.url, headers={"Content-Type": "application/x-www-form-urlencoded"},
              body=_b64('{"To": {{ ctx.recipient|json }}, "Body": {{ ctx.body|json }}}'),
              auth={"type": "api_key", "config": {"name": "session", "value": "abc", "in": "cookie"}})
    _queue_sms()

    dispatch_queue()

    [request] = http_endpoint.requests
    assert request.headers["Cookie"] == "session=abc"
    assert request.body == b"To=%2B15550001111&Body=Your+verification+code+is+731946+%28valid+for+10+minutes%29."


def test_upstream_error_is_a_failed_attempt(http_endpoint, kratos_env, network):
    _channels(kratos_env, url=http_endpoint.url)
    http_endpoint.status = 503
    message = _queue_sms()

    assert dispatch_queue().failed == [message.id]

    message.refresh_from_db()
    assert message.status == "queued"
    assert message.dispatches.get().error["message"] == (
        "unable to dispatch mail delivery because upstream server replied with status code 503")


def test_jsonnet_body_is_refused_with_an_explanation(http_endpoint, kratos_env, network):
    _channels(kratos_env, url=http_endpoint.url, body=_b64("function(ctx) { to: ctx.recipient }"))
    message = _queue_sms()

    assert dispatch_queue().failed == [message.id]

    assert http_endpoint.requests == []
    assert "jsonnet bodies are not supported" in message.dispatches.get().error["message"]


def test_sms_without_a_configured_channel_fails(network):
    message = _queue_sms()

    dispatch_queue()

    assert message.dispatches.get().error["message"] == "no courier channels configured for: sms"


def test_email_over_http_delivery_strategy(http_endpoint, kratos_env, network):
    kratos_env(COURIER_DELIVERY_STRATEGY="http",
               COURIER_HTTP_REQUEST_CONFIG=json.dumps({"url": f"{http_endpoint.url}/mail"}))
    services.enqueue_email(to="ada@example.org", template_type="recovery_code_valid", data={"recovery_code": "909090"})

    assert len(dispatch_queue().sent) == 1

    body = json.loads(http_endpoint.requests[0].body)
    assert (body["recipient"], body["subject"], body["recovery_code"]) == (
        "ada@example.org", "Your account recovery code", "909090")
    assert "909090" in body["body"]
