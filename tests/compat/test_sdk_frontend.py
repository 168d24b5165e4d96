"""Self-service flows and sessions through Ory's own SDK (`ory_kratos_client` 25.4.0) against the live server.

The SDK deserializes every answer, 400 flows included (into `ApiException.data`), with strict
pydantic models generated from Kratos's spec: a call that returns or raises the documented exception
proves the wire shape, and `exact` requires that no model carries fields outside that spec.
The server runs `profile_first` registration with the after-registration `session` hook (conftest).
"""
from __future__ import annotations

import json
import secrets
import threading
import urllib.error
import urllib.request
import uuid
from collections import Counter
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from typing import Any

import pytest
import urllib3
from ory_kratos_client import (
    ApiClient,
    Configuration,
    ContinueWithRedirectBrowserTo,
    ContinueWithSetOrySessionToken,
    CreateIdentityBody,
    DeleteMySessionsCount,
    ErrorGeneric,
    FlowError,
    FrontendApi,
    IdentityApi,
    IdentityWithCredentials,
    IdentityWithCredentialsPassword,
    IdentityWithCredentialsPasswordConfig,
    LoginFlow,
    LogoutFlow,
    PerformNativeLogoutBody,
    RegistrationFlow,
    Session,
    SuccessfulNativeLogin,
    SuccessfulNativeRegistration,
    UiNodeInputAttributes,
    UpdateLoginFlowBody,
    UpdateLoginFlowWithPasswordMethod,
    UpdateRegistrationFlowBody,
    UpdateRegistrationFlowWithPasswordMethod,
    UpdateRegistrationFlowWithProfileMethod,
)
from ory_kratos_client.exceptions import (
    ApiException,
    BadRequestException,
    ForbiddenException,
    NotFoundException,
    UnauthorizedException,
)
from pydantic import BaseModel

pytestmark = pytest.mark.compat

PARALLEL_REGISTRATIONS = 20


def exact(value: Any) -> Any:
    """`value`, after checking that no model in it carries fields outside Kratos's spec.

    oneOf wrappers (UI node attributes, `continue_with` items) hold the matched model in `actual_instance`.
    """
    if isinstance(value, BaseModel):
        extra = getattr(value, "additional_properties", {})
        assert extra == {}, f"{type(value).__name__}: {extra}"
        names = ["actual_instance"] if "actual_instance" in type(value).model_fields else type(value).model_fields
        for name in names:
            exact(getattr(value, name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            exact(item)
    elif isinstance(value, dict):
        for item in value.values():
            exact(item)
    return value


def new_password() -> str:
    return f"Sdk-{secrets.token_urlsafe(12)}"


def inputs(flow: LoginFlow | RegistrationFlow) -> dict[str, UiNodeInputAttributes]:
    nodes = (node.attributes.actual_instance for node in flow.ui.nodes)
    return {attributes.name: attributes for attributes in nodes if isinstance(attributes, UiNodeInputAttributes)}


def message_ids(flow: LoginFlow | RegistrationFlow) -> list[int]:
    return [message.id for message in flow.ui.messages or []]


def cookie_header(response: urllib3.BaseHTTPResponse) -> str:
    """A `Cookie` header from a response's Set-Cookie headers.

    The SDK keeps no cookie jar, and its `*_with_http_info` answers keep only the last Set-Cookie
    header (a dict), so calls whose cookies matter use `*_without_preload_content` and parse the body
    with the model the SDK would have used.
    """
    jar = SimpleCookie()
    for value in response.headers.getlist("Set-Cookie"):
        jar.load(value)
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items())


def rejected(error: ApiException, model: type[BaseModel], *, typed_by_sdk: bool = True) -> Any:
    """The body of an error answer, parsed with `model`.

    Where the SDK's spec types that status, the SDK must already have parsed it (`error.data`); a few
    answers Kratos gives are missing from its spec (e.g. 403s), and the SDK leaves those unparsed.
    """
    parsed = exact(model.from_json(error.body))
    assert error.data == (parsed if typed_by_sdk else None), f"{error.status}: {error.body}"
    return parsed


def register(frontend_api: FrontendApi, email: str, password: str) -> SuccessfulNativeRegistration:
    """The native two-step registration: traits (the flow answers 400 with the credential screen), then a password."""
    flow = frontend_api.create_native_registration_flow()
    profile = UpdateRegistrationFlowWithProfileMethod(method="profile", screen="credential-selection",
                                                      traits={"email": email})
    with pytest.raises(BadRequestException) as step:
        frontend_api.update_registration_flow(flow.id, UpdateRegistrationFlowBody(profile))
    assert "password" in inputs(rejected(step.value, RegistrationFlow))
    body = UpdateRegistrationFlowWithPasswordMethod(method="password", password=password, traits={"email": email})
    return exact(frontend_api.update_registration_flow(flow.id, UpdateRegistrationFlowBody(body)))


def password_login_body(identifier: str, password: str, csrf_token: str | None = None) -> UpdateLoginFlowBody:
    return UpdateLoginFlowBody(UpdateLoginFlowWithPasswordMethod(method="password", identifier=identifier,
                                                                 password=password, csrf_token=csrf_token))


def login(frontend_api: FrontendApi, email: str, password: str) -> SuccessfulNativeLogin:
    flow = frontend_api.create_native_login_flow()
    return exact(frontend_api.update_login_flow(flow.id, password_login_body(email, password)))


def create_with_password(identity_api: IdentityApi, email: str) -> tuple[str, str, str]:
    """(identity id, email, password) of an identity made on the admin API (which mails nothing)."""
    password = new_password()
    credentials = IdentityWithCredentials(password=IdentityWithCredentialsPassword(
        config=IdentityWithCredentialsPasswordConfig(password=password)))
    created = identity_api.create_identity(create_identity_body=CreateIdentityBody(
        schema_id="default", traits={"email": email}, credentials=credentials))
    return created.id, email, password


@pytest.fixture
def signed_up(identity_api: IdentityApi, unique_email) -> tuple[str, str, str]:
    """An identity made on the admin API, ready to sign in."""
    return create_with_password(identity_api, unique_email("signed-up"))


# --- registration ------------------------------------------------------------------------------


def test_native_registration_in_two_steps_signs_the_new_identity_in(frontend_api, kratos_server, unique_email):
    email, password = unique_email("register"), new_password()

    flow = exact(frontend_api.create_native_registration_flow())

    assert flow.type == "api" and flow.state == "choose_method"
    assert flow.ui.action == f"{kratos_server.public_url}/self-service/registration?flow={flow.id}"
    assert flow.ui.method == "POST"
    assert inputs(flow)["method"].value == "profile" and "password" not in inputs(flow)
    assert exact(frontend_api.get_registration_flow(flow.id)) == flow

    profile = UpdateRegistrationFlowWithProfileMethod(method="profile", screen="credential-selection",
                                                      traits={"email": email})
    with pytest.raises(BadRequestException) as step:
        frontend_api.update_registration_flow(flow.id, UpdateRegistrationFlowBody(profile))
    credentials_screen = rejected(step.value, RegistrationFlow)
    assert credentials_screen.id == flow.id
    fields = inputs(credentials_screen)
    assert (fields["traits.email"].type, fields["traits.email"].value) == ("hidden", email)
    assert fields["password"].type == "password" and fields["method"].value == "password"
    assert fields["screen"].value == "previous"
    assert message_ids(credentials_screen) == [1040009]

    body = UpdateRegistrationFlowWithPasswordMethod(method="password", password=password, traits={"email": email})
    registered = exact(frontend_api.update_registration_flow(flow.id, UpdateRegistrationFlowBody(body)))

    assert isinstance(registered, SuccessfulNativeRegistration)
    assert registered.identity.traits == {"email": email} and registered.identity.credentials is None
    assert registered.session.identity.id == registered.identity.id and registered.session.active
    assert registered.session_token.startswith("ory_st_")
    [continue_with] = registered.continue_with
    assert isinstance(continue_with.actual_instance, ContinueWithSetOrySessionToken)
    assert continue_with.actual_instance.ory_session_token == registered.session_token
    whoami = exact(frontend_api.to_session(x_session_token=registered.session_token))
    assert (whoami.id, whoami.identity.id) == (registered.session.id, registered.identity.id)
    assert login(frontend_api, email, password).session.identity.id == registered.identity.id


def test_a_weak_password_on_the_first_screen_gets_its_message_on_an_added_password_node(frontend_api, unique_email):
    email = unique_email("weak")
    flow = frontend_api.create_native_registration_flow()  # the traits screen: it has no password input
    body = UpdateRegistrationFlowWithPasswordMethod(method="password", password="short", traits={"email": email})

    with pytest.raises(BadRequestException) as answer:
        frontend_api.update_registration_flow(flow.id, UpdateRegistrationFlowBody(body))

    invalid = rejected(answer.value, RegistrationFlow)
    assert invalid.id == flow.id and message_ids(invalid) == []
    # Kratos's Container.AddMessage adds a plain text input to carry a message for a node the form lacks.
    [password] = [n for n in invalid.ui.nodes if n.attributes.actual_instance.name == "password"]
    assert (password.group, password.attributes.actual_instance.type) == ("default", "text")
    assert [m.id for m in password.messages] == [4000032] and password.attributes.actual_instance.value is None
    assert inputs(invalid)["traits.email"].value == email


def test_registering_a_taken_identifier_is_message_4000007(frontend_api, unique_email):
    email = unique_email("taken")
    register(frontend_api, email, new_password())
    flow = frontend_api.create_native_registration_flow()
    body = UpdateRegistrationFlowWithPasswordMethod(method="password", password=new_password(), traits={"email": email})

    with pytest.raises(BadRequestException) as answer:
        frontend_api.update_registration_flow(flow.id, UpdateRegistrationFlowBody(body))

    assert message_ids(rejected(answer.value, RegistrationFlow)) == [4000007]


# --- login -------------------------------------------------------------------------------------


def test_native_login_issues_a_session_token_that_whoami_accepts(frontend_api, signed_up):
    identity_id, email, password = signed_up
    flow = exact(frontend_api.create_native_login_flow())
    assert flow.type == "api" and flow.refresh is False and flow.requested_aal == "aal1"
    assert set(inputs(flow)) >= {"identifier", "password", "method"}
    assert exact(frontend_api.get_login_flow(flow.id)) == flow

    signed_in = exact(frontend_api.update_login_flow(flow.id, password_login_body(email, password)))

    assert isinstance(signed_in, SuccessfulNativeLogin)
    assert signed_in.session_token.startswith("ory_st_")
    session = signed_in.session
    assert session.identity.id == identity_id and session.active
    assert session.authenticator_assurance_level == "aal1"
    assert [m.method for m in session.authentication_methods] == ["password"]
    [device] = session.devices
    assert device.user_agent.startswith("OpenAPI-Generator/") and device.ip_address == "127.0.0.1"
    whoami = exact(frontend_api.to_session(x_session_token=signed_in.session_token))
    assert isinstance(whoami, Session)
    assert (whoami.id, whoami.identity.id, whoami.identity.traits) == (session.id, identity_id, {"email": email})


@pytest.mark.parametrize("case", ["wrong password", "unknown identifier"])
def test_bad_credentials_re_render_the_login_flow_with_4000006(frontend_api, signed_up, case):
    _, email, password = signed_up
    identifier, attempt = (email, password + "x") if case == "wrong password" else (f"nobody-{email}", password)
    flow = frontend_api.create_native_login_flow()

    with pytest.raises(BadRequestException) as answer:
        frontend_api.update_login_flow(flow.id, password_login_body(identifier, attempt))

    invalid = rejected(answer.value, LoginFlow)
    assert invalid.id == flow.id and message_ids(invalid) == [4000006]
    assert invalid.ui.messages[0].type == "error"
    assert inputs(invalid)["identifier"].value == identifier
    assert not inputs(invalid)["password"].value


def test_starting_login_while_signed_in_needs_refresh(frontend_api, signed_up):
    _, email, password = signed_up
    token = login(frontend_api, email, password).session_token

    with pytest.raises(BadRequestException) as answer:
        frontend_api.create_native_login_flow(x_session_token=token)
    assert rejected(answer.value, ErrorGeneric).error.id == "session_already_available"

    refresh = exact(frontend_api.create_native_login_flow(x_session_token=token, refresh=True))
    assert refresh.refresh is True
    assert (inputs(refresh)["identifier"].type, inputs(refresh)["identifier"].value) == ("hidden", email)
    assert message_ids(refresh) == [1010003]


# --- the caller's sessions and logout ----------------------------------------------------------


def test_my_sessions_lists_and_revokes_the_other_sessions(frontend_api, signed_up):
    _, email, password = signed_up
    current, second, third = (login(frontend_api, email, password) for _ in range(3))
    token = current.session_token

    others = exact(frontend_api.list_my_sessions(x_session_token=token))
    assert {s.id for s in others} == {second.session.id, third.session.id}
    assert all(s.active and s.identity.traits == {"email": email} for s in others)

    # Every other session is still active here: with one already revoked, Kratos's count would
    # depend on the database (MySQL reports changed rows, the others matched rows).
    revoked = exact(frontend_api.disable_my_other_sessions(x_session_token=token))
    assert isinstance(revoked, DeleteMySessionsCount) and revoked.count == 2
    assert frontend_api.list_my_sessions(x_session_token=token) == []
    for other in (second, third):
        with pytest.raises(UnauthorizedException):
            frontend_api.to_session(x_session_token=other.session_token)

    fourth, fifth = login(frontend_api, email, password), login(frontend_api, email, password)
    assert frontend_api.disable_my_session(fourth.session.id, x_session_token=token) is None
    assert [s.id for s in frontend_api.list_my_sessions(x_session_token=token)] == [fifth.session.id]
    with pytest.raises(UnauthorizedException):
        frontend_api.to_session(x_session_token=fourth.session_token)
    with pytest.raises(BadRequestException) as own:
        frontend_api.disable_my_session(current.session.id, x_session_token=token)
    assert rejected(own.value, ErrorGeneric).error.message == "cannot revoke current session"
    assert frontend_api.to_session(x_session_token=token).id == current.session.id


def test_native_logout_ends_the_session_token(frontend_api, signed_up):
    _, email, password = signed_up
    token = login(frontend_api, email, password).session_token

    assert frontend_api.perform_native_logout(PerformNativeLogoutBody(session_token=token)) is None
    # Kratos revokes by token whatever the session's state, so a repeat is no error either.
    assert frontend_api.perform_native_logout(PerformNativeLogoutBody(session_token=token)) is None

    with pytest.raises(UnauthorizedException) as answer:
        frontend_api.to_session(x_session_token=token)
    assert rejected(answer.value, ErrorGeneric).error.code == 401
    with pytest.raises(UnauthorizedException):
        frontend_api.list_my_sessions(x_session_token=token)
    with pytest.raises(ForbiddenException) as unknown:
        frontend_api.perform_native_logout(PerformNativeLogoutBody(session_token="ory_st_not-a-token"))
    assert rejected(unknown.value, ErrorGeneric, typed_by_sdk=False).error.reason == (
        "The provided Ory Session Token could not be found, is invalid, or otherwise malformed.")


# --- browser flows through the SDK ---------------------------------------------------------------


def test_browser_flows_as_json_carry_an_anti_csrf_token_bound_to_a_cookie(frontend_api):
    registration = exact(frontend_api.create_browser_registration_flow())
    assert registration.type == "browser" and inputs(registration)["csrf_token"].value

    answer = frontend_api.create_browser_login_flow_without_preload_content()
    assert answer.status == 200
    flow = exact(LoginFlow.from_json(answer.data))
    assert flow.type == "browser"
    assert inputs(flow)["csrf_token"].value and inputs(flow)["csrf_token"].type == "hidden"

    # Fetching a browser flow without the anti-CSRF cookie it was issued with is refused …
    with pytest.raises(ForbiddenException) as refused:
        frontend_api.get_login_flow(flow.id)
    assert rejected(refused.value, ErrorGeneric).error.id == "security_csrf_violation"
    # … and allowed with it.
    assert exact(frontend_api.get_login_flow(flow.id, cookie=cookie_header(answer))).id == flow.id


def test_browser_login_and_logout_with_the_cookie_header(frontend_api, signed_up):
    identity_id, email, password = signed_up
    started = frontend_api.create_browser_login_flow_without_preload_content()
    flow, csrf_cookie = LoginFlow.from_json(started.data), cookie_header(started)
    csrf_token = inputs(flow)["csrf_token"].value

    with pytest.raises(ForbiddenException) as forged:
        frontend_api.update_login_flow(flow.id, password_login_body(email, password, csrf_token="forged"),
                                       cookie=csrf_cookie)
    assert rejected(forged.value, ErrorGeneric, typed_by_sdk=False).error.id == "security_csrf_violation"

    answer = frontend_api.update_login_flow_without_preload_content(
        flow.id, password_login_body(email, password, csrf_token=csrf_token), cookie=csrf_cookie)
    assert answer.status == 200, answer.data
    signed_in = exact(SuccessfulNativeLogin.from_json(answer.data))
    # A browser success carries no token: the session lives in the cookie.
    assert signed_in.session.identity.id == identity_id and signed_in.session_token is None
    [continue_with] = signed_in.continue_with
    assert isinstance(continue_with.actual_instance, ContinueWithRedirectBrowserTo)
    session_cookie = cookie_header(answer)
    assert "ory_kratos_session=" in session_cookie
    assert frontend_api.to_session(cookie=session_cookie).id == signed_in.session.id

    logout = exact(frontend_api.create_browser_logout_flow(cookie=session_cookie))
    assert isinstance(logout, LogoutFlow)
    assert logout.logout_url.endswith(f"/self-service/logout?token={logout.logout_token}")
    assert frontend_api.update_logout_flow(token=logout.logout_token, cookie=session_cookie) is None

    with pytest.raises(UnauthorizedException):
        frontend_api.to_session(cookie=session_cookie)
    with pytest.raises(UnauthorizedException) as no_session:
        frontend_api.create_browser_logout_flow(cookie=session_cookie)
    assert rejected(no_session.value, ErrorGeneric).error.id == "session_inactive"


def test_the_stub_flow_error(frontend_api):
    error = exact(frontend_api.get_flow_error("stub:500"))

    assert isinstance(error, FlowError)
    uuid.UUID(error.id)  # Kratos answers the stub with a fresh container id
    assert error.created_at == error.updated_at == datetime(1, 1, 1, tzinfo=UTC)  # Go's zero time
    assert error.error == {"code": 500, "status": "Internal Server Error", "reason": "This is a stub error.",
                           "message": "An internal server error occurred, please contact the system administrator"}
    with pytest.raises(NotFoundException) as missing:
        frontend_api.get_flow_error(str(uuid.uuid4()))
    assert rejected(missing.value, ErrorGeneric).error.code == 404


# --- admin session endpoints -------------------------------------------------------------------


def test_admin_session_endpoints_on_sessions_from_native_logins(identity_api, frontend_api, signed_up):
    identity_id, email, password = signed_up
    first, second = login(frontend_api, email, password), login(frontend_api, email, password)

    listed = exact(identity_api.list_sessions(expand=["identity", "devices"], page_size=1000))
    mine = {s.id: s for s in listed if s.identity is not None and s.identity.id == identity_id}
    assert set(mine) == {first.session.id, second.session.id}
    assert all(s.identity.traits == {"email": email} and len(s.devices) == 1 for s in mine.values())
    bare = {s.id: s for s in identity_api.list_sessions(page_size=1000)}
    assert bare[first.session.id].identity is None and bare[first.session.id].devices is None

    fetched = exact(identity_api.get_session(first.session.id, expand=["identity"]))
    assert (fetched.id, fetched.identity.id, fetched.devices) == (first.session.id, identity_id, [])
    assert identity_api.get_session(first.session.id).identity is None

    extended = exact(identity_api.extend_session(first.session.id))
    assert extended.id == first.session.id and extended.expires_at >= first.session.expires_at

    assert identity_api.disable_session(first.session.id) is None
    assert identity_api.get_session(first.session.id).active is False
    with pytest.raises(UnauthorizedException):
        frontend_api.to_session(x_session_token=first.session_token)

    of_identity = exact(identity_api.list_identity_sessions(identity_id))
    assert {s.id for s in of_identity} == {first.session.id, second.session.id}
    assert [s.id for s in identity_api.list_identity_sessions(identity_id, active=True)] == [second.session.id]

    assert identity_api.delete_identity_sessions(identity_id) is None
    assert identity_api.list_identity_sessions(identity_id) == []
    with pytest.raises(UnauthorizedException):
        frontend_api.to_session(x_session_token=second.session_token)
    with pytest.raises(NotFoundException) as gone:
        identity_api.delete_identity_sessions(identity_id)
    assert rejected(gone.value, ErrorGeneric).error.code == 404
    with pytest.raises(NotFoundException):
        identity_api.get_session(first.session.id)


# --- concurrency -------------------------------------------------------------------------------


def _post_json(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Accept": "application/json", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_parallel_registrations_of_one_identifier_make_exactly_one_identity(kratos_server, identity_api, unique_email):
    email = unique_email("race")
    with ApiClient(Configuration(host=kratos_server.public_url)) as client:
        flows = [FrontendApi(client).create_native_registration_flow() for _ in range(PARALLEL_REGISTRATIONS)]
    barrier = threading.Barrier(PARALLEL_REGISTRATIONS)
    answers: list[tuple[int, Any]] = [(0, None)] * PARALLEL_REGISTRATIONS

    def submit(index: int) -> None:
        body = {"method": "password", "password": new_password(), "traits": {"email": email}}
        barrier.wait()  # every submission leaves at once, each on its own flow
        answers[index] = _post_json(flows[index].ui.action, body)

    threads = [threading.Thread(target=submit, args=(index,)) for index in range(PARALLEL_REGISTRATIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Counter(status for status, _ in answers) == {200: 1, 400: PARALLEL_REGISTRATIONS - 1}, answers
    [winner] = [body for status, body in answers if status == 200]
    assert SuccessfulNativeRegistration.from_dict(winner).identity.traits == {"email": email}
    for status, body in answers:
        if status == 400:
            assert message_ids(RegistrationFlow.from_dict(body)) == [4000007]
    [identity] = identity_api.list_identities(credentials_identifier=email)
    assert identity.id == winner["identity"]["id"]
