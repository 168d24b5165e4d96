"""Verification, recovery and settings through Ory's SDK (`ory_kratos_client`), with real mail.

The server (`kratos_mail_server`) runs `serve --watch-courier`: its courier worker, a process of
its own, sends every code and link over SMTP to `inbox`, an SMTP server in this process, where the
tests read them, as a user reads their mail. The flows are native (api) ones, as an app drives them;
a recovery link is opened with plain HTTP, as a browser opens it. Every answer is parsed by the
SDK's strict models (`exact`, see test_sdk_frontend), 400 flows included.
"""
from __future__ import annotations

import http.client
import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from ory_kratos_client import (
    ApiClient,
    Configuration,
    ContinueWithSetOrySessionToken,
    ContinueWithSettingsUi,
    ContinueWithVerificationUi,
    CourierApi,
    CourierMessageStatus,
    CourierMessageType,
    CreateRecoveryCodeForIdentityBody,
    CreateRecoveryLinkForIdentityBody,
    FrontendApi,
    IdentityApi,
    LoginFlow,
    Message,
    RecoveryFlow,
    UpdateRecoveryFlowBody,
    UpdateRecoveryFlowWithCodeMethod,
    UpdateSettingsFlowBody,
    UpdateSettingsFlowWithPasswordMethod,
    UpdateSettingsFlowWithProfileMethod,
    UpdateVerificationFlowBody,
    UpdateVerificationFlowWithCodeMethod,
    VerificationFlow,
)
from ory_kratos_client.exceptions import BadRequestException

from tests.compat.test_sdk_frontend import (
    create_with_password,
    exact,
    inputs,
    login,
    message_ids,
    new_password,
    password_login_body,
    register,
    rejected,
)

pytestmark = pytest.mark.compat

UI = "http://127.0.0.1:4455"  # the UI URLs of the mail server's config (conftest)
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
# How long a stranger's mail gets to show up after the known address's mail arrived. The worker
# sends oldest first and polls every 100 ms, and the stranger asks first, so this is ample.
STRANGER_GRACE_SECONDS = 1.0
STATUS_TIMEOUT_SECONDS = 5


@pytest.fixture(scope="module")
def frontend(kratos_mail_server) -> Iterator[FrontendApi]:
    with ApiClient(Configuration(host=kratos_mail_server.public_url)) as client:
        yield FrontendApi(client)


@pytest.fixture(scope="module")
def admin(kratos_mail_server) -> Iterator[ApiClient]:
    with ApiClient(Configuration(host=kratos_mail_server.admin_url)) as client:
        yield client


@pytest.fixture(scope="module")
def identities(admin: ApiClient) -> IdentityApi:
    return IdentityApi(admin)


@pytest.fixture(scope="module")
def courier(admin: ApiClient) -> CourierApi:
    return CourierApi(admin)


@pytest.fixture
def account(identities: IdentityApi, unique_email) -> tuple[str, str, str]:
    """(identity id, email, password) of an identity made on the admin API, which mails nothing."""
    return create_with_password(identities, unique_email("account"))


# --- reading mail and following links -----------------------------------------------------------


def text_of(mail: EmailMessage) -> str:
    return mail.get_body(preferencelist=("plain",)).get_content()


def code_in(mail: EmailMessage) -> str:
    """The one-time code: the plain-text part's line of six digits."""
    [code] = re.findall(r"^(\d{6})\s*$", text_of(mail), re.MULTILINE)
    return code


def link_in(mail: EmailMessage, public_url: str) -> str:
    [link] = re.findall(rf"{re.escape(public_url)}/self-service/\S+", text_of(mail))
    return link


def flow_id_in(url: str) -> str:
    return parse_qs(urlsplit(url).query)["flow"][0]


def open_in_browser(url: str) -> tuple[int, http.client.HTTPMessage]:
    """A browser's GET of `url`, redirects not followed: (status, headers)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", f"{parts.path}?{parts.query}", headers={"Accept": HTML})
        response = connection.getresponse()
        response.read()
        return response.status, response.headers
    finally:
        connection.close()


def cookies_set(headers: http.client.HTTPMessage) -> SimpleCookie:
    jar = SimpleCookie()
    for value in headers.get_all("Set-Cookie") or []:
        jar.load(value)
    return jar


def cookie_header(jar: SimpleCookie) -> str:
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


# --- request bodies -----------------------------------------------------------------------------


def verification_body(**fields: Any) -> UpdateVerificationFlowBody:
    return UpdateVerificationFlowBody(UpdateVerificationFlowWithCodeMethod(method="code", **fields))


def recovery_body(**fields: Any) -> UpdateRecoveryFlowBody:
    return UpdateRecoveryFlowBody(UpdateRecoveryFlowWithCodeMethod(method="code", **fields))


def password_body(password: str, csrf_token: str | None = None) -> UpdateSettingsFlowBody:
    return UpdateSettingsFlowBody(UpdateSettingsFlowWithPasswordMethod(method="password", password=password,
                                                                       csrf_token=csrf_token))


def assert_login_refused(frontend: FrontendApi, identifier: str, password: str) -> None:
    flow = frontend.create_native_login_flow()
    with pytest.raises(BadRequestException) as refused:
        frontend.update_login_flow(flow.id, password_login_body(identifier, password))
    assert message_ids(rejected(refused.value, LoginFlow)) == [4000006]


# --- verification -------------------------------------------------------------------------------


def test_registration_mails_a_code_and_a_new_verification_flow_verifies_the_address(
        frontend, identities, inbox, kratos_mail_server, unique_email):
    email = unique_email("verify")

    registered = register(frontend, email, new_password())

    show_verification, set_token = (item.actual_instance for item in registered.continue_with)
    assert isinstance(show_verification, ContinueWithVerificationUi)
    assert isinstance(set_token, ContinueWithSetOrySessionToken)
    # An api flow has no UI URL: the app shows the flow itself.
    assert show_verification.flow.verifiable_address == email and show_verification.flow.url is None
    [welcome] = inbox.wait_for(email)
    registration_code = code_in(welcome)
    assert welcome["From"] == "accounts@example.org"
    public = kratos_mail_server.public_url
    assert link_in(welcome, public) == (f"{public}/self-service/verification"
                                        f"?code={registration_code}&flow={show_verification.flow.id}")

    flow = exact(frontend.create_native_verification_flow())
    assert (flow.type, flow.state, flow.active) == ("api", "choose_method", "code")
    assert inputs(flow)["email"].type == "email"
    sent = exact(frontend.update_verification_flow(flow.id, verification_body(email=email)))
    assert sent.id == flow.id and sent.state == "sent_email" and message_ids(sent) == [1080003]
    assert inputs(sent)["code"].required
    [_, mail] = inbox.wait_for(email, 2)
    code = code_in(mail)

    # A code works only in the flow it was sent for (unless two random codes happen to be equal).
    if registration_code != code:
        wrong = exact(frontend.update_verification_flow(flow.id, verification_body(code=registration_code)))
        assert wrong.state == "sent_email" and message_ids(wrong) == [4070006]
    assert identities.get_identity(registered.identity.id).verifiable_addresses[0].verified is False

    passed = exact(frontend.update_verification_flow(flow.id, verification_body(code=code)))

    assert isinstance(passed, VerificationFlow)
    assert passed.state == "passed_challenge" and message_ids(passed) == [1080002]
    assert (passed.ui.method, passed.ui.action) == ("GET", f"{UI}/")  # "Continue" to the default return URL
    [address] = exact(identities.get_identity(registered.identity.id)).verifiable_addresses
    assert (address.value, address.verified, address.status) == (email, True, "completed")
    assert datetime.now(UTC) - address.verified_at < timedelta(minutes=1)


def test_the_verification_flow_of_a_registration_takes_the_mailed_code(frontend, identities, inbox, unique_email):
    email = unique_email("verify-registration")
    registered = register(frontend, email, new_password())
    flow_id = registered.continue_with[0].actual_instance.flow.id

    waiting = exact(frontend.get_verification_flow(flow_id))
    [mail] = inbox.wait_for(email)
    passed = exact(frontend.update_verification_flow(flow_id, verification_body(code=code_in(mail))))

    assert (waiting.type, waiting.state) == ("api", "sent_email")
    assert [(n.attributes.actual_instance.name, n.attributes.actual_instance.type) for n in waiting.ui.nodes] == [
        ("method", "hidden"), ("code", "text"), ("method", "submit"), ("email", "submit")]
    assert inputs(waiting)["email"].value == email  # the "resend" button
    assert passed.state == "passed_challenge"
    assert identities.get_identity(registered.identity.id).verifiable_addresses[0].verified


# --- recovery -----------------------------------------------------------------------------------


def test_recovery_by_code_gives_the_app_a_session_to_set_a_new_password(frontend, identities, inbox, account):
    identity_id, email, old_password = account
    flow = exact(frontend.create_native_recovery_flow())
    assert (flow.type, flow.state, flow.active) == ("api", "choose_method", "code")

    sent = exact(frontend.update_recovery_flow(flow.id, recovery_body(email=email)))
    assert sent.state == "sent_email" and message_ids(sent) == [1060003]
    [mail] = inbox.wait_for(email)
    recovered = exact(frontend.update_recovery_flow(flow.id, recovery_body(code=code_in(mail))))

    assert isinstance(recovered, RecoveryFlow) and recovered.state == "passed_challenge"
    set_token, show_settings = (item.actual_instance for item in recovered.continue_with)
    assert isinstance(set_token, ContinueWithSetOrySessionToken) and isinstance(show_settings, ContinueWithSettingsUi)
    assert show_settings.flow.url == f"{UI}/settings?flow={show_settings.flow.id}"
    token = set_token.ory_session_token
    session = exact(frontend.to_session(x_session_token=token))
    assert session.identity.id == identity_id
    assert [m.method for m in session.authentication_methods] == ["code_recovery"]
    # Receiving the code proved control of the address.
    assert identities.get_identity(identity_id).verifiable_addresses[0].verified

    settings = exact(frontend.get_settings_flow(show_settings.flow.id, x_session_token=token))
    assert (settings.type, settings.state, settings.identity.id) == ("api", "show_form", identity_id)
    assert message_ids(settings) == [1060001]  # how long the session stays privileged
    assert exact(frontend.create_native_settings_flow(x_session_token=token)).id != settings.id
    new = new_password()
    changed = exact(frontend.update_settings_flow(settings.id, password_body(new), x_session_token=token))

    assert changed.state == "success" and message_ids(changed) == [1050001]
    assert login(frontend, email, new).session.identity.id == identity_id
    assert_login_refused(frontend, email, old_password)


def test_an_admin_recovery_link_signs_a_browser_in_and_opens_the_settings(frontend, identities, account,
                                                                          kratos_mail_server):
    identity_id, email, old_password = account

    created = exact(identities.create_recovery_link_for_identity(
        create_recovery_link_for_identity_body=CreateRecoveryLinkForIdentityBody(identity_id=identity_id,
                                                                                 expires_in="15m")))
    status, headers = open_in_browser(created.recovery_link)

    recovery_flow_id = flow_id_in(created.recovery_link)
    assert re.fullmatch(rf"{re.escape(kratos_mail_server.public_url)}/self-service/recovery"
                        r"\?flow=[0-9a-f-]{36}&token=[A-Za-z0-9]{32}", created.recovery_link)
    assert timedelta(minutes=14) < created.expires_at - datetime.now(UTC) <= timedelta(minutes=15)
    # Reference §4.7: a link always ends in a browser, 303 to the settings UI with the session cookie.
    assert status == 303 and headers["Location"].startswith(f"{UI}/settings?flow=")
    jar = cookies_set(headers)
    session_cookie = jar["ory_kratos_session"]
    assert session_cookie["httponly"] and session_cookie["path"] == "/"
    assert session_cookie["samesite"] == "Lax" and not session_cookie["secure"]  # the test server runs in dev
    assert any(name.startswith("csrf_token_") for name in jar)  # a new principal gets a new anti-CSRF token
    cookie = cookie_header(jar)
    session = exact(frontend.to_session(cookie=cookie))
    assert session.identity.id == identity_id
    assert [m.method for m in session.authentication_methods] == ["link_recovery"]

    settings = exact(frontend.get_settings_flow(flow_id_in(headers["Location"]), cookie=cookie))
    assert (settings.type, settings.identity.id) == ("browser", identity_id) and message_ids(settings) == [1060001]
    new = new_password()
    changed = exact(frontend.update_settings_flow(
        settings.id, password_body(new, csrf_token=inputs(settings)["csrf_token"].value), cookie=cookie))
    assert changed.state == "success"
    assert login(frontend, email, new).session.identity.id == identity_id
    assert_login_refused(frontend, email, old_password)

    # A link works once: opened again, it starts a new recovery flow that says so.
    again, again_headers = open_in_browser(created.recovery_link)
    assert again == 303 and again_headers["Location"].startswith(f"{UI}/recovery?flow=")
    restarted = exact(frontend.get_recovery_flow(flow_id_in(again_headers["Location"]),
                                                 cookie=cookie_header(cookies_set(again_headers))))
    assert restarted.id != recovery_flow_id and message_ids(restarted) == [4060004]


def _wire_shape(raw: bytes, flow_id: str, email: str) -> Any:
    """An answer's JSON with what must differ between two flows (ids, times, the address) blanked."""
    body = json.loads(raw.decode().replace(flow_id, "<flow>").replace(email, "<email>"))
    return {key: value for key, value in body.items() if key not in ("issued_at", "expires_at")}


def test_recovery_for_an_unknown_address_reads_the_same_and_mails_nobody(frontend, courier, inbox, account,
                                                                        unique_email):
    _, email, _ = account
    stranger = unique_email("stranger")
    stranger_flow, known_flow = frontend.create_native_recovery_flow(), frontend.create_native_recovery_flow()

    # The stranger asks first: the worker sends the oldest message first, so once the known
    # address's mail is in, a stranger's would have been sent already.
    unknown = frontend.update_recovery_flow_with_http_info(stranger_flow.id, recovery_body(email=stranger))
    known = frontend.update_recovery_flow_with_http_info(known_flow.id, recovery_body(email=email))

    assert unknown.status_code == known.status_code == 200
    assert exact(unknown.data).state == exact(known.data).state == "sent_email"
    assert (_wire_shape(unknown.raw_data, stranger_flow.id, stranger)
            == _wire_shape(known.raw_data, known_flow.id, email))
    inbox.wait_for(email)
    time.sleep(STRANGER_GRACE_SECONDS)
    assert inbox.to(stranger) == []
    # Nothing was even queued (notify_unknown_recipients is off), so nothing can arrive later.
    assert courier.list_courier_messages(recipient=stranger) == []


def test_an_admin_recovery_code_recovers_in_a_native_flow(frontend, identities, courier, account):
    identity_id, email, _ = account

    created = exact(identities.create_recovery_code_for_identity(CreateRecoveryCodeForIdentityBody(
        identity_id=identity_id, flow_type="api", expires_in="10m")))

    assert re.fullmatch(r"\d{6}", created.recovery_code)
    assert created.recovery_link.startswith(f"{UI}/recovery?flow=")  # the recovery UI, not a Kratos endpoint
    assert timedelta(minutes=9) < created.expires_at - datetime.now(UTC) <= timedelta(minutes=10)
    flow = exact(frontend.get_recovery_flow(flow_id_in(created.recovery_link)))
    assert (flow.type, flow.state) == ("api", "sent_email")
    assert [n.attributes.actual_instance.name for n in flow.ui.nodes] == ["code", "method"]

    recovered = exact(frontend.update_recovery_flow(flow.id, recovery_body(code=created.recovery_code)))

    assert recovered.state == "passed_challenge"
    set_token, show_settings = (item.actual_instance for item in recovered.continue_with)
    session = exact(frontend.to_session(x_session_token=set_token.ory_session_token))
    assert session.identity.id == identity_id
    assert exact(frontend.get_settings_flow(show_settings.flow.id,
                                            x_session_token=set_token.ory_session_token)).state == "show_form"
    # The admin passed the code on: that proves nothing about the address, and nothing was mailed.
    assert identities.get_identity(identity_id).verifiable_addresses[0].verified is False
    assert courier.list_courier_messages(recipient=email) == []


# --- the courier's admin API --------------------------------------------------------------------


def _sent(courier: CourierApi, recipient: str) -> Message:
    """The one message to `recipient`, once the worker has recorded it sent (just after SMTP took it)."""
    deadline = time.monotonic() + STATUS_TIMEOUT_SECONDS
    while True:
        [message] = courier.list_courier_messages(recipient=recipient)
        if message.status == CourierMessageStatus.SENT or time.monotonic() > deadline:
            return message
        time.sleep(0.05)


def test_the_courier_api_shows_the_sent_mail(frontend, courier, inbox, account):
    identity_id, email, _ = account
    flow = frontend.create_native_recovery_flow()
    frontend.update_recovery_flow(flow.id, recovery_body(email=email))
    [mail] = inbox.wait_for(email)

    listed = exact(_sent(courier, email))
    fetched = exact(courier.get_courier_message(listed.id))

    assert listed.status == CourierMessageStatus.SENT and listed.type == CourierMessageType.EMAIL
    assert (listed.recipient, listed.template_type, listed.channel, listed.send_count) == (
        email, "recovery_code_valid", "email", 1)
    assert listed.dispatches is None  # only a single message carries its dispatches
    # The test server runs with `dev: true`, so subject and body are shown, not redacted.
    assert listed.subject == mail["Subject"] and code_in(mail) in listed.body
    assert fetched.model_copy(update={"dispatches": None}) == listed
    [dispatch] = fetched.dispatches
    assert (dispatch.message_id, dispatch.status, dispatch.error) == (listed.id, "success", None)
    sent = courier.list_courier_messages(status=CourierMessageStatus.SENT, page_size=500)
    assert listed.id in {m.id for m in sent}
    assert listed.id not in {m.id for m in courier.list_courier_messages(status=CourierMessageStatus.QUEUED)}


# --- settings -----------------------------------------------------------------------------------


def test_a_profile_change_saves_the_traits_and_verifies_the_new_address(frontend, identities, inbox, account,
                                                                        unique_email, kratos_mail_server):
    identity_id, email, password = account
    token = login(frontend, email, password).session_token
    flow = exact(frontend.create_native_settings_flow(x_session_token=token))
    assert inputs(flow)["traits.email"].value == email and inputs(flow)["method"].value == "profile"
    moved = unique_email("moved")
    traits = {"email": moved, "name": {"first": "Ada", "last": "Lovelace"}}

    saved = exact(frontend.update_settings_flow(flow.id, UpdateSettingsFlowBody(
        UpdateSettingsFlowWithProfileMethod(method="profile", traits=traits)), x_session_token=token))

    assert saved.state == "success" and message_ids(saved) == [1050001]
    assert saved.identity.traits == traits and inputs(saved)["traits.email"].value == moved
    identity = exact(identities.get_identity(identity_id))
    [address], [recovery_address] = identity.verifiable_addresses, identity.recovery_addresses
    assert (address.value, address.verified, address.status) == (moved, False, "sent")
    assert recovery_address.value == moved
    assert login(frontend, moved, password).session.identity.id == identity_id
    assert_login_refused(frontend, email, password)
    # The new address was mailed a code for a verification flow of the app's own kind.
    [mail] = inbox.wait_for(moved)
    verification_flow_id = flow_id_in(link_in(mail, kratos_mail_server.public_url))
    passed = exact(frontend.update_verification_flow(verification_flow_id, verification_body(code=code_in(mail))))
    assert (passed.type, passed.state) == ("api", "passed_challenge")
    assert identities.get_identity(identity_id).verifiable_addresses[0].verified
