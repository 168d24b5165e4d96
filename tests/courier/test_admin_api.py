"""`GET /admin/courier/messages` and `GET /admin/courier/messages/{id}` (Kratos `courier/handler.go`)."""
from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from ory_kratos_client.models.message import Message as SDKMessage

from courier import services
from courier.dispatcher import dispatch_queue
from courier.models import Message
from identities.models import Network
from kratos_project import clock
from kratos_project.tenancy import bind_network

pytestmark = pytest.mark.django_db

MESSAGE_KEYS = ["id", "status", "type", "recipient", "body", "subject", "template_type", "channel", "send_count",
                "created_at", "updated_at"]


def _queue(count: int, **overrides) -> list[Message]:
    messages = []
    for number in range(count):
        fields = {"to": f"user{number}@example.org", "template_type": "stub",
                  "data": {"subject": f"subject {number}", "body": f"body {number}"}} | overrides
        messages.append(services.enqueue_email(**fields))
        clock.advance(timedelta(milliseconds=10))
    return messages


def _links(response) -> dict[str, dict[str, list[str]]]:
    found = re.findall(r'<([^>]*)>; rel="(\w+)"', response["Link"])
    return {rel: parse_qs(urlsplit(url).query) for url, rel in found}


def test_list_is_newest_first_in_kratos_shape(admin_api, network):
    older, newer = _queue(2)

    response = admin_api.call("GET", "/admin/courier/messages")

    assert response.status_code == 200
    body = response.json()
    assert [m["id"] for m in body] == [str(newer.id), str(older.id)]
    assert list(body[0]) == MESSAGE_KEYS  # no `dispatches` in lists
    assert body[0] | {"created_at": None, "updated_at": None} == {
        "id": str(newer.id), "status": "queued", "type": "email", "recipient": "user1@example.org",
        "body": "body 1", "subject": "subject 1", "template_type": "stub", "channel": "email", "send_count": 0,
        "created_at": None, "updated_at": None,
    }
    assert body[0]["created_at"].endswith("Z")


def test_subject_and_body_are_redacted_outside_dev_mode(admin_api, network, kratos_env):
    [message] = _queue(1)
    kratos_env(DEV="false")

    listed = admin_api.call("GET", "/admin/courier/messages").json()[0]
    single = admin_api.call("GET", f"/admin/courier/messages/{message.id}").json()

    for shown in (listed, single):
        assert (shown["subject"], shown["body"]) == ("<redacted-unless-dev-mode>", "<redacted-unless-dev-mode>")


def test_status_and_recipient_filters(admin_api, network, smtp):
    first, second, third = _queue(3)
    Message.objects.filter(id=third.id).update(recipient="user0@example.org")
    dispatch_queue()  # sends all three
    later = _queue(1)[0]

    def ids(query: str) -> set[str]:
        response = admin_api.call("GET", f"/admin/courier/messages?{query}")
        assert response.status_code == 200, response.content
        return {m["id"] for m in response.json()}

    assert ids("status=queued") == {str(later.id)}
    assert ids("status=sent") == {str(first.id), str(second.id), str(third.id)}
    assert ids("status=abandoned") == set()
    assert ids("recipient=user0@example.org") == {str(first.id), str(third.id), str(later.id)}
    assert ids("recipient=user0@example.org&status=sent") == {str(first.id), str(third.id)}


@pytest.mark.parametrize("query", ["status=delivered", "status=", "status=Queued"])
def test_unknown_status_is_a_400(admin_api, query):
    response = admin_api.call("GET", f"/admin/courier/messages?{query}")

    assert response.status_code == 400
    assert response.json() == {"error": {"code": 400, "status": "Bad Request", "reason": "Message status is not valid",
                                         "message": "The request was malformed or contained invalid parameters"}}


def test_pages_follow_sealed_tokens_to_the_end(admin_api, network):
    messages = _queue(23)
    expected = [str(m.id) for m in reversed(messages)]

    seen, token, pages = [], None, 0
    while True:
        query = "page_size=10" + (f"&page_token={token}" if token else "")
        response = admin_api.call("GET", f"/admin/courier/messages?{query}")
        assert response.status_code == 200, response.content
        seen += [m["id"] for m in response.json()]
        pages += 1
        links = _links(response)
        assert links["first"]["page_size"] == ["10"]
        if "next" not in links:
            break
        token = links["next"]["page_token"][0]
        assert str(messages[0].id) not in token  # opaque: the position is encrypted

    assert seen == expected and pages == 3


def test_first_link_restarts_and_default_page_size_is_ten(admin_api, network):
    _queue(12)

    response = admin_api.call("GET", "/admin/courier/messages")
    first = _links(response)["first"]
    again = admin_api.call("GET", f"/admin/courier/messages?page_token={first['page_token'][0]}&page_size=10")

    assert len(response.json()) == 10
    assert [m["id"] for m in again.json()] == [m["id"] for m in response.json()]
    assert len(admin_api.call("GET", "/admin/courier/messages?page_size=0").json()) == 10
    assert len(admin_api.call("GET", "/admin/courier/messages?page_size=9999").json()) == 12  # capped at 500


def test_same_timestamps_are_paged_by_id(admin_api, network):
    messages = _queue(5)
    Message.objects.update(created_at=messages[0].created_at)
    # The database's own id order (MariaDB's native UUID type does not sort as text).
    expected = [str(i) for i in Message.objects.order_by("id").values_list("id", flat=True)]

    first = admin_api.call("GET", "/admin/courier/messages?page_size=2")
    token = _links(first)["next"]["page_token"][0]
    rest = admin_api.call("GET", f"/admin/courier/messages?page_size=3&page_token={token}")

    assert [m["id"] for m in first.json()] + [m["id"] for m in rest.json()] == expected


def test_crafted_or_expired_tokens_are_refused(admin_api, network):
    _queue(3)
    token = _links(admin_api.call("GET", "/admin/courier/messages?page_size=1"))["next"]["page_token"][0]

    crafted = admin_api.call("GET", "/admin/courier/messages?page_token=eyJpZCI6IjEyMyJ9")
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]  # a bit of the ciphertext
    tampered = admin_api.call("GET", f"/admin/courier/messages?page_token={flipped}")
    clock.advance(timedelta(hours=1, seconds=1))
    expired = admin_api.call("GET", f"/admin/courier/messages?page_token={token}")

    assert (crafted.status_code, tampered.status_code, expired.status_code) == (400, 400, 400)
    assert crafted.json()["error"]["reason"] == "invalid pagination token"
    assert expired.json()["error"]["reason"] == "page token expired, do not persist page tokens"


def test_tokens_follow_pagination_secret_rotation(admin_api, network, kratos_env):
    _queue(3)
    kratos_env(SECRETS_PAGINATION='["old-pagination-secret-0123"]')
    token = _links(admin_api.call("GET", "/admin/courier/messages?page_size=1"))["next"]["page_token"][0]

    kratos_env(SECRETS_PAGINATION='["new-pagination-secret-0123"]')
    unknown = admin_api.call("GET", f"/admin/courier/messages?page_token={token}")
    kratos_env(SECRETS_PAGINATION='["new-pagination-secret-0123", "old-pagination-secret-0123"]')
    rotated = admin_api.call("GET", f"/admin/courier/messages?page_token={token}")

    assert unknown.status_code == 400
    assert rotated.status_code == 200 and len(rotated.json()) == 2


def test_unparsable_page_size_is_a_400(admin_api):
    response = admin_api.call("GET", "/admin/courier/messages?page_size=ten")

    assert response.status_code == 400
    assert response.json()["error"]["message"] == 'strconv.Atoi: parsing "ten": invalid syntax'


def test_get_message_with_dispatches_newest_first(admin_api, network, smtp_server, kratos_env):
    kratos_env(COURIER_SMTP_CONNECTION_URI=f"smtp://127.0.0.1:{smtp_server.port}/?disable_starttls=true")
    [message] = _queue(1)
    fresh = admin_api.call("GET", f"/admin/courier/messages/{message.id}").json()
    dispatch_queue()  # the server is down: a failed dispatch
    smtp_server.start(auth_require_tls=False)
    clock.advance(timedelta(minutes=1))
    dispatch_queue()

    body = admin_api.call("GET", f"/admin/courier/messages/{message.id}").json()

    assert "dispatches" not in fresh  # Kratos omits an empty list
    assert (body["status"], body["send_count"]) == ("sent", 2)
    success, failure = body["dispatches"]
    assert (success["status"], success["error"], success["message_id"]) == ("success", None, str(message.id))
    assert failure["status"] == "failed" and failure["error"]["reason"] == "failed to send email via smtp"
    assert list(success) == ["id", "message_id", "status", "error", "created_at", "updated_at"]


def test_get_unknown_or_malformed_id(admin_api):
    missing = admin_api.call("GET", f"/admin/courier/messages/{uuid.uuid4()}")
    malformed = admin_api.call("GET", "/admin/courier/messages/not-a-uuid")

    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Unable to locate the resource"
    assert malformed.status_code == 400
    assert malformed.json()["error"]["message"] == 'uuid: incorrect UUID length 10 in string "not-a-uuid"'


def test_also_served_without_the_admin_prefix(admin_api, network):
    [message] = _queue(1)

    assert admin_api.call("GET", f"/courier/messages/{message.id}").status_code == 200


def test_messages_of_another_network_are_invisible(admin_api, network):
    with bind_network(Network.objects.create().id):
        [foreign] = _queue(1)
    [mine] = _queue(1)

    listed = admin_api.call("GET", "/admin/courier/messages").json()
    filtered = admin_api.call("GET", f"/admin/courier/messages?recipient={foreign.recipient}").json()

    assert [m["id"] for m in listed] == [str(mine.id)]
    assert [m["id"] for m in filtered] == [str(mine.id)]  # same recipient, other network
    assert admin_api.call("GET", f"/admin/courier/messages/{foreign.id}").status_code == 404


def test_the_sdk_reads_email_and_sms_messages(admin_api, network):
    email = services.enqueue_email(to="ada@example.org", template_type="login_code_valid", data={"login_code": "1"})
    sms = services.enqueue_sms(to="+15550001111", template_type="login_code_valid", data={"login_code": "2"})

    parsed = [SDKMessage.from_dict(m) for m in admin_api.call("GET", "/admin/courier/messages").json()]

    assert {(str(m.id), m.type.value, m.channel) for m in parsed} == {
        (str(email.id), "email", "email"), (str(sms.id), "phone", "sms")}
    assert SDKMessage.from_dict(admin_api.call("GET", f"/admin/courier/messages/{sms.id}").json()).recipient == (
        "+15550001111")
