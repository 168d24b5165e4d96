"""Courier messages in the operator console (Django admin on the admin port), through HTTP; re-queued
messages are then delivered by a dispatcher pass to a real SMTP server."""
from __future__ import annotations

from datetime import timedelta

import pytest

from courier import services
from courier.dispatcher import dispatch_queue, retry_delay
from courier.models import Message
from identities.models import Network
from kratos_project import clock
from kratos_project.tenancy import bind_network
from tests.console import listed, shown_messages

pytestmark = pytest.mark.django_db

CHANGELIST = "/console/courier/message/"
CODE = "482915"


def change_page(message: Message) -> str:
    return f"{CHANGELIST}{message.id}/change/"


@pytest.fixture
def queue_sms(network):
    def queue(to: str = "+15550001111") -> Message:
        return services.enqueue_sms(to=to, template_type="login_code_valid", data={"login_code": CODE})

    return queue


def test_list_columns_filters_and_recipient_search(console, queue_email, queue_sms, smtp):
    verification = queue_email("ada@example.org")
    recovery = queue_email("grace@example.org", template_type="recovery_code_valid", recovery_code=CODE,
                           expires_in_minutes=15)
    sms = queue_sms()
    dispatch_queue()  # sends both emails; the SMS has no channel configured and waits to be retried

    response = console.get(CHANGELIST)

    assert listed(response) == {str(verification.id), str(recovery.id), str(sms.id)}
    headers = [column["text"] for column in response.context["result_headers"]][1:]  # after the checkbox
    assert headers == ["created at", "type", "recipient", "template type", "status", "send count"]
    assert listed(console.get(CHANGELIST, {"status__exact": "sent"})) == {str(verification.id), str(recovery.id)}
    assert listed(console.get(CHANGELIST, {"status__exact": "queued"})) == {str(sms.id)}
    assert listed(console.get(CHANGELIST, {"type__exact": "sms"})) == {str(sms.id)}
    assert listed(console.get(CHANGELIST, {"template_type": "recovery_code_valid"})) == {str(recovery.id)}
    assert listed(console.get(CHANGELIST, {"q": "grace@"})) == {str(recovery.id)}
    assert listed(console.get(CHANGELIST, {"q": "EXAMPLE.ORG"})) == {str(verification.id), str(recovery.id)}
    assert listed(console.get(CHANGELIST, {"q": "5550001"})) == {str(sms.id)}


def test_body_is_shown_in_dev_mode_only(console, queue_email, kratos_env):
    message = queue_email("ada@example.org")

    in_dev = console.get(change_page(message)).content.decode()
    kratos_env(DEV="false")
    outside = console.get(change_page(message)).content.decode()

    assert CODE in in_dev and message.subject in in_dev
    assert outside.count("&lt;redacted-unless-dev-mode&gt;") == 2  # subject and body
    # Neither the body nor the template data (which holds the code and link) reaches the page.
    assert CODE not in outside and message.subject not in outside


def test_detail_shows_each_dispatch_with_its_error(console, queue_email, smtp):
    message = queue_email("ada@example.org")
    smtp.collector.refuse_with = "451 4.3.0 try again later"
    dispatch_queue()
    clock.advance(retry_delay(1))
    smtp.collector.refuse_with = None
    dispatch_queue()

    html = console.get(change_page(message)).content.decode()
    section = html[html.index("field-dispatches_table"):]

    assert section.index("<td>success</td>") < section.index("<td>failed</td>")  # newest first
    assert "(451, b&#x27;4.3.0 try again later&#x27;)" in section  # the SMTP reply, escaped
    assert '<td>success</td><td>-</td>' not in section and "<td>success</td><td></td>" in section


def test_requeue_gives_an_abandoned_message_a_fresh_start(console, queue_email, smtp_server, kratos_env):
    kratos_env(COURIER_SMTP_CONNECTION_URI=f"smtp://127.0.0.1:{smtp_server.port}/?disable_starttls=true",
               COURIER_MESSAGE_RETRIES="1")
    message = queue_email("ada@example.org")
    for attempt in (1, 2, 3):  # the server is down: two failed attempts, then abandoned unsent
        dispatch_queue()
        clock.advance(retry_delay(attempt))
    assert Message.objects.values_list("status", "send_count").get(id=message.id) == ("abandoned", 2)

    response = console.post(CHANGELIST, {"action": "requeue", "_selected_action": [str(message.id)]}, follow=True)
    smtp_server.start(auth_require_tls=False)
    delivered = dispatch_queue()

    assert shown_messages(response) == ["1 messages queued for the courier's next pull."]
    # Without the fresh budget the worker would abandon it again, unsent, on the first claim.
    assert delivered.sent == [message.id]
    assert [mail["To"] for mail in smtp_server.mails] == ["ada@example.org"]
    assert Message.objects.values_list("status", "send_count").get(id=message.id) == ("sent", 1)
    assert message.dispatches.filter(status="failed").count() == 2  # the earlier attempts stay on record


def test_requeue_ends_a_retry_backoff_and_leaves_sent_messages_alone(console, queue_email, smtp):
    waiting = queue_email("ada@example.org")
    smtp.collector.refuse_with = "451 4.3.0 try again later"
    dispatch_queue()
    smtp.collector.refuse_with = None
    sent = queue_email("grace@example.org")
    dispatch_queue()  # sends `sent`; `waiting` sits out its backoff
    assert smtp.mails[-1]["To"] == "grace@example.org"

    response = console.post(CHANGELIST, {"action": "requeue", "_selected_action": [str(waiting.id), str(sent.id)]},
                            follow=True)
    delivered = dispatch_queue()  # the clock has not moved: only the re-queue makes `waiting` due

    assert shown_messages(response) == ["1 messages queued for the courier's next pull.",
                                        "1 messages were left alone: sent, or being sent."]
    assert delivered.sent == [waiting.id]
    assert [mail["To"] for mail in smtp.mails] == ["grace@example.org", "ada@example.org"]


def test_messages_of_another_network_are_invisible(console, queue_email):
    ours = queue_email("ada@example.org")
    other = Network.objects.create()
    with bind_network(other.id):
        theirs = services.enqueue_email(to="ada@example.org", template_type="stub",
                                        data={"subject": "theirs", "body": "theirs"})
    Message.all_networks.filter(id=theirs.id).update(status="abandoned")
    clock.advance(timedelta(seconds=1))

    assert listed(console.get(CHANGELIST)) == {str(ours.id)}
    assert listed(console.get(CHANGELIST, {"q": "ada@example.org"})) == {str(ours.id)}
    assert "template_type=stub" not in console.get(CHANGELIST).content.decode()  # filter choices too
    change = console.get(change_page(theirs))
    assert change.status_code == 302 and change["Location"] == "/console/"
    console.post(CHANGELIST, {"action": "requeue", "_selected_action": [str(theirs.id)]})
    assert Message.all_networks.get(id=theirs.id).status == "abandoned"


def test_console_shows_no_add_change_or_delete(console, queue_email):
    message = queue_email("ada@example.org")

    post = console.post(change_page(message), {"status": "sent", "recipient": "mallory@example.org"})

    assert post.status_code == 403
    assert console.get(f"{CHANGELIST}add/").status_code == 403
    assert console.post(f"{CHANGELIST}{message.id}/delete/", {"post": "yes"}).status_code == 403
    assert Message.objects.values_list("status", "recipient").get(id=message.id) == ("queued", "ada@example.org")
