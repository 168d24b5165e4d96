"""Email delivery over a real SMTP server: content, failures, retries, abandonment, TLS and auth."""
from __future__ import annotations

from datetime import timedelta

import pytest

from courier import services
from courier.dispatcher import dispatch_queue, retry_delay
from courier.models import Dispatch, Message
from kratos_project import clock

pytestmark = pytest.mark.django_db


def _reloaded(message: Message) -> Message:
    return Message.all_networks.get(id=message.id)


def test_queued_email_is_sent_by_one_pass_as_multipart(smtp, queue_email, kratos_env, caplog):
    kratos_env(COURIER_SMTP_FROM_NAME="Ory Accounts", COURIER_SMTP_FROM_ADDRESS="accounts@example.com",
               COURIER_SMTP_HEADERS='{"X-SES-SOURCE-ARN": "arn:aws:ses:source"}',
               COURIER_SMTP_LOCAL_NAME="courier.example.com")
    message = queue_email(to="ada@example.org")

    assert smtp.mails == []  # queueing sends nothing
    result = dispatch_queue()

    assert result.sent == [message.id]
    [mail] = smtp.mails
    assert mail["Subject"] == "Your verification code"
    assert mail["From"] == "Ory Accounts <accounts@example.com>"
    assert mail["To"] == "ada@example.org"
    assert mail["X-SES-SOURCE-ARN"] == "arn:aws:ses:source"
    assert mail["Message-ID"].endswith("@example.com>")
    assert mail.get_content_type() == "multipart/alternative"
    plain, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert "482915" in plain.get_content() and "http://127.0.0.1:4433/v?code=482915" in plain.get_content()
    assert "<strong>482915</strong>" in html.get_content()
    assert smtp.collector.envelopes[0].mail_from == "accounts@example.com"
    assert smtp.collector.helo_names == ["courier.example.com"]
    assert f"sent email message {message.id}" in caplog.text
    assert "482915" not in caplog.text and "ada@example.org" not in caplog.text  # no codes or addresses in logs
    message = _reloaded(message)
    assert (message.status, message.send_count) == ("sent", 1)
    [dispatch] = message.dispatches.all()
    assert (dispatch.status, dispatch.error, dispatch.nid_id) == ("success", None, message.nid_id)


def test_stub_sends_the_given_subject_and_bodies(smtp, network):
    services.enqueue_email(to="ada@example.org", template_type="stub",
                           data={"subject": "Hi", "body": "text only", "html_body": "<p>rich</p>"})
    dispatch_queue()

    [mail] = smtp.mails
    assert mail["Subject"] == "Hi"
    assert mail.get_body(("plain",)).get_content().strip() == "text only"
    assert mail.get_body(("html",)).get_content().strip() == "<p>rich</p>"


def test_smtp_down_keeps_the_message_and_delivers_it_when_the_server_returns(smtp_server, kratos_env, queue_email):
    kratos_env(COURIER_SMTP_CONNECTION_URI=f"smtp://127.0.0.1:{smtp_server.port}/?disable_starttls=true")
    message = queue_email()

    first = dispatch_queue()

    assert first.failed == [message.id]
    message = _reloaded(message)
    assert (message.status, message.send_count) == ("queued", 1)
    [failure] = message.dispatches.all()
    assert failure.status == "failed"
    assert failure.error["code"] == 500 and failure.error["reason"] == "failed to send email via smtp"
    assert "refused" in failure.error["message"].lower()

    smtp_server.start(auth_require_tls=False)
    assert dispatch_queue().claimed == 0  # the retry waits for its backoff
    clock.advance(retry_delay(1))
    second = dispatch_queue()

    assert second.sent == [message.id]
    assert len(smtp_server.mails) == 1
    message = _reloaded(message)
    assert (message.status, message.send_count) == ("sent", 2)
    assert [d.status for d in message.dispatches.order_by("created_at")] == ["failed", "success"]


def test_message_is_abandoned_unsent_after_the_retry_limit(smtp_server, kratos_env, queue_email):
    kratos_env(COURIER_SMTP_CONNECTION_URI=f"smtp://127.0.0.1:{smtp_server.port}/?disable_starttls=true",
               COURIER_MESSAGE_RETRIES="2")
    message = queue_email()

    outcomes = []
    for attempt in range(1, 5):
        result = dispatch_queue()
        outcomes.append("failed" if result.failed else "abandoned" if result.abandoned else "nothing")
        clock.advance(retry_delay(attempt))

    # Kratos's rule: attempts while send_count <= message_retries, then abandoned when claimed again.
    assert outcomes == ["failed", "failed", "failed", "abandoned"]
    message = _reloaded(message)
    assert (message.status, message.send_count) == ("abandoned", 3)
    assert Dispatch.all_networks.filter(message=message, status="failed").count() == 3
    clock.advance(timedelta(hours=1))
    assert dispatch_queue().claimed == 0


def test_a_5xx_refusal_abandons_the_message_at_once(smtp, queue_email):
    smtp.collector.refuse_with = "550 5.1.1 mailbox unavailable"
    message = queue_email()

    result = dispatch_queue()

    assert result.abandoned == [message.id]
    message = _reloaded(message)
    assert (message.status, message.send_count) == ("abandoned", 1)
    assert "550" in message.dispatches.get().error["message"]


def test_a_4xx_refusal_is_retried(smtp, queue_email):
    smtp.collector.refuse_with = "451 4.3.0 try again later"
    message = queue_email()

    assert dispatch_queue().failed == [message.id]
    assert _reloaded(message).status == "queued"


def test_a_message_left_processing_by_a_dead_worker_is_sent_after_its_lease(smtp, queue_email):
    message = queue_email()
    # A worker claimed it and died: processing, lease running.
    lease_end = clock.now() + timedelta(minutes=5)
    Message.all_networks.filter(id=message.id).update(status="processing", next_attempt_at=lease_end)

    assert dispatch_queue().claimed == 0
    clock.advance(timedelta(minutes=5))
    result = dispatch_queue()

    assert result.sent == [message.id]
    assert len(smtp.mails) == 1


def test_messages_are_claimed_oldest_first_up_to_pull_count(smtp, queue_email, kratos_env):
    kratos_env(COURIER_WORKER_PULL_COUNT="2")
    messages = []
    for number in range(3):
        messages.append(queue_email(template_type="stub", subject=f"m{number}", body="b"))
        clock.advance(timedelta(seconds=1))

    first, second = dispatch_queue(), dispatch_queue()

    assert first.sent == [messages[0].id, messages[1].id]
    assert second.sent == [messages[2].id]
    assert [mail["Subject"] for mail in smtp.mails] == ["m0", "m1", "m2"]


def test_starttls_is_required_unless_disabled(smtp_server, kratos_env, queue_email):
    kratos_env(COURIER_SMTP_CONNECTION_URI=f"smtp://127.0.0.1:{smtp_server.port}/")
    smtp_server.start(auth_require_tls=False)  # offers no STARTTLS
    message = queue_email()

    dispatch_queue()

    assert smtp_server.mails == []
    assert "STARTTLS" in _reloaded(message).dispatches.get().error["message"]


def test_starttls_with_authentication(smtp_server, kratos_env, queue_email, server_tls):
    smtp_server.start(tls_context=server_tls, require_starttls=True)
    uri = f"smtp://courier:s3cret%20pass@127.0.0.1:{smtp_server.port}/?skip_ssl_verify=true"
    kratos_env(COURIER_SMTP_CONNECTION_URI=uri)
    message = queue_email()

    assert dispatch_queue().sent == [message.id]
    assert smtp_server.collector.logins == ["courier"]
    assert len(smtp_server.mails) == 1


def test_starttls_verifies_the_certificate_against_server_name(smtp_server, kratos_env, queue_email, server_tls,
                                                                tls_files):
    # Trusting the test certificate through SSL_CERT_FILE, which OpenSSL's default paths honour.
    smtp_server.start(tls_context=server_tls, require_starttls=True)
    kratos_env(SSL_CERT_FILE=str(tls_files[0]),
               COURIER_SMTP_CONNECTION_URI=f"smtp://127.0.0.1:{smtp_server.port}/?server_name=mail.test")
    good = queue_email()
    assert dispatch_queue().sent == [good.id]

    kratos_env(COURIER_SMTP_CONNECTION_URI=f"smtp://127.0.0.1:{smtp_server.port}/?server_name=other.test")
    bad = queue_email()
    assert dispatch_queue().failed == [bad.id]
    assert "certificate" in _reloaded(bad).dispatches.get().error["message"].lower()


def test_implicit_tls(smtp_server, kratos_env, queue_email, server_tls):
    smtp_server.start(ssl_context=server_tls, auth_require_tls=False)  # aiosmtpd only counts STARTTLS as TLS
    uri = f"smtps://courier:s3cret%20pass@127.0.0.1:{smtp_server.port}/?skip_ssl_verify=true"
    kratos_env(COURIER_SMTP_CONNECTION_URI=uri)
    message = queue_email()

    assert dispatch_queue().sent == [message.id]
    assert smtp_server.collector.logins == ["courier"]


def test_unverifiable_certificate_is_refused(smtp_server, kratos_env, queue_email, server_tls):
    smtp_server.start(ssl_context=server_tls, auth_require_tls=False)  # aiosmtpd only counts STARTTLS as TLS
    kratos_env(COURIER_SMTP_CONNECTION_URI=f"smtps://127.0.0.1:{smtp_server.port}/")
    message = queue_email()

    assert dispatch_queue().failed == [message.id]
    assert smtp_server.mails == []


def test_wrong_password_is_a_failed_attempt(smtp_server, kratos_env, queue_email, server_tls):
    smtp_server.start(ssl_context=server_tls, auth_require_tls=False)
    kratos_env(COURIER_SMTP_CONNECTION_URI=f"smtps://courier:wrong@127.0.0.1:{smtp_server.port}/?skip_ssl_verify=true")
    message = queue_email()

    assert dispatch_queue().failed == [message.id]
    assert "535" in _reloaded(message).dispatches.get().error["message"]


def test_missing_connection_uri_is_a_failed_attempt(queue_email):
    message = queue_email()  # the test configuration has no courier.smtp.connection_uri

    dispatch_queue()

    error = _reloaded(message).dispatches.get().error
    assert error["message"] == "Courier tried to deliver an email but courier.smtp.connection_uri is not set!"
