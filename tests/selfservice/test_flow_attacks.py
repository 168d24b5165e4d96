"""Attacks on the self-service flows, each written as the attacker would try it."""
from __future__ import annotations

import base64
import hashlib
import statistics
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from identities import hashing
from identities.models import CredentialIdentifier, Identity
from kratos_project.surfaces import SURFACE_KEY
from tests.selfservice.conftest import HTML, Flows, node_value, path_of

PASSWORD = "correct horse battery staple"
pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(identity_factory):
    return identity_factory(traits={"email": "ada@example.org"}, password=PASSWORD)


def _login_body(**extra: str) -> dict:
    return {"method": "password", "identifier": "ada@example.org", "password": PASSWORD, **extra}


@pytest.mark.parametrize("tamper", ["missing", "wrong", "other_browser"])
def test_csrf_forged_browser_login_is_refused(ada, tamper):
    victim = Flows("spa")
    flow = victim.start("login")
    body = _login_body()
    if tamper == "wrong":
        body["csrf_token"] = node_value(Flows("spa").start("login"), "csrf_token")  # another browser's token
    elif tamper == "other_browser":
        body["csrf_token"] = node_value(flow, "csrf_token")
        victim.client.cookies.clear()  # the attacker's page posts without the victim's anti-CSRF cookie

    response = victim.client.post(path_of(flow["ui"]["action"]), body, content_type="application/json",
                                  HTTP_ACCEPT="application/json")

    assert response.status_code == 403
    assert response.json()["error"]["id"] == "security_csrf_violation"
    assert victim.whoami().status_code == 401


def test_csrf_failure_in_html_goes_to_the_error_ui_with_a_stored_error(ada):
    browser = Flows("browser")
    flow = browser.start("login")

    response = browser.client.post(path_of(flow["ui"]["action"]), {**_login_body(), "csrf_token": "forged"},
                                   HTTP_ACCEPT=HTML)

    assert response.status_code == 303
    error_id = parse_qs(urlsplit(response["Location"]).query)["id"][0]
    stored = browser.client.get("/self-service/errors", {"id": error_id}).json()
    assert stored["error"]["id"] == "security_csrf_violation" and stored["error"]["code"] == 403


def test_flow_of_another_browser_cannot_be_fetched():
    victim, attacker = Flows("spa"), Flows("spa")
    flow = victim.start("login")
    attacker.start("login")  # the attacker has an anti-CSRF cookie of their own

    response = attacker.client.get("/self-service/login/flows", {"id": flow["id"]}, HTTP_ACCEPT="application/json")

    assert response.status_code == 403 and response.json()["error"]["id"] == "security_csrf_violation"


@pytest.mark.parametrize("header", [{"HTTP_ORIGIN": "https://evil.example"}, {"HTTP_COOKIE": "ory_kratos_session=x"}])
def test_api_flow_refuses_browser_requests(ada, header):
    flow = Flows("api").start("login")

    response = Client(**{SURFACE_KEY: "public"}).post(path_of(flow["ui"]["action"]), _login_body(),
                                                      content_type="application/json", **header)

    assert response.status_code == 400
    [message] = response.json()["ui"]["messages"]
    assert message["id"] == 4000001 and "initiated as an API request" in message["text"]


@pytest.mark.parametrize("return_to", ["https://evil.example/", "//evil.example/steal", "http://127.0.0.1:4455.evil.example/",
                                       "javascript:alert(1)"])
def test_open_redirect_is_refused_at_init(return_to, kratos_env):
    kratos_env(SELFSERVICE_ALLOWED_RETURN_URLS='["http://127.0.0.1:4455/app"]')

    response = Client(**{SURFACE_KEY: "public"}).get("/self-service/login/browser", {"return_to": return_to},
                                                     HTTP_ACCEPT="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["id"] == "self_service_flow_return_to_forbidden"


@pytest.mark.parametrize("flow", ["login", "registration", "recovery", "verification"])
@pytest.mark.parametrize("return_to", ["http://[::1", "http://[zz]/"])
def test_a_return_to_that_is_no_url_is_a_400_not_a_500(flow, return_to, kratos_env):
    kratos_env(SELFSERVICE_FLOWS_RECOVERY_ENABLED="true", SELFSERVICE_FLOWS_VERIFICATION_ENABLED="true")

    response = Client(**{SURFACE_KEY: "public"}).get(f"/self-service/{flow}/api", {"return_to": return_to})

    assert response.status_code == 400
    error = response.json()["error"]
    assert "id" not in error and error["reason"].startswith("Unable to parse the return_to query parameter as an URL")


def test_allowed_return_to_is_where_login_ends(ada, kratos_env):
    kratos_env(SELFSERVICE_ALLOWED_RETURN_URLS='["http://127.0.0.1:4455/app"]')
    browser = Flows("browser")
    flow = browser.start("login", return_to="http://127.0.0.1:4455/app/dashboard")

    response = browser.submit(flow, **_login_body())

    assert flow["return_to"] == "http://127.0.0.1:4455/app/dashboard"
    assert response.status_code == 303 and response["Location"] == "http://127.0.0.1:4455/app/dashboard"


def test_session_fixation_a_login_always_makes_a_new_session(ada):
    browser = Flows("browser")
    browser.submit(browser.start("login"), **_login_body())
    first = browser.whoami().json()["id"]
    csrf_cookie_before = next(v.value for k, v in browser.client.cookies.items() if k.startswith("csrf_token_"))

    browser.submit(browser.start("login", refresh="true"), **_login_body())

    assert browser.whoami().json()["id"] != first
    csrf_cookie_after = next(v.value for k, v in browser.client.cookies.items() if k.startswith("csrf_token_"))
    assert csrf_cookie_after != csrf_cookie_before


def test_session_token_is_useless_after_logout(ada):
    app = Flows("api")
    token = app.submit(app.start("login"), **_login_body()).json()["session_token"]
    api = Client(**{SURFACE_KEY: "public"})

    assert api.delete("/self-service/logout/api", {"session_token": token}, content_type="application/json").status_code == 204

    assert api.get("/sessions/whoami", HTTP_X_SESSION_TOKEN=token).status_code == 401
    assert api.get("/sessions/whoami", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    unknown = api.delete("/self-service/logout/api", {"session_token": "ory_st_nope"}, content_type="application/json")
    assert unknown.status_code == 403


def test_logout_needs_the_sessions_own_logout_token(ada):
    browser, other = Flows("spa"), Flows("spa")
    for client in (browser, other):
        client.submit(client.start("login"), **_login_body())
    other_token = other.client.get("/self-service/logout/browser").json()["logout_token"]

    response = browser.client.get("/self-service/logout", {"token": other_token}, HTTP_ACCEPT="application/json")

    assert response.status_code == 403 and browser.whoami().status_code == 200


def test_imported_hash_is_upgraded_on_login(admin_api, kratos_env):
    kratos_env(HASHERS_ALGORITHM="argon2", HASHERS_ARGON2_MEMORY="1MB", HASHERS_ARGON2_PARALLELISM="1")
    md5 = "$md5$" + base64.b64encode(hashlib.md5(PASSWORD.encode()).digest()).decode()
    admin_api.call("POST", "/admin/identities", {"schema_id": "default", "traits": {"email": "ada@example.org"},
                                                 "credentials": {"password": {"config": {"hashed_password": md5}}}})
    app = Flows("api")

    assert app.submit(app.start("login"), **_login_body()).status_code == 200

    stored = _stored_hash("ada@example.org")
    assert stored.startswith("$argon2id$") and hashing.verify_password(PASSWORD, stored)


def _stored_hash(identifier: str) -> str:
    from kratos_project.tenancy import bind_network, default_nid

    with bind_network(default_nid()):
        return CredentialIdentifier.objects.get(identifier=identifier).credential.config["hashed_password"]


def test_unknown_identifier_costs_the_same_as_a_wrong_password(ada, kratos_env):
    """Enumeration by timing: both paths verify one hash of the configured cost.

    The hasher is made slow enough (argon2, 16 MiB) that the hash dominates each request, and the
    medians of several tries must agree within a wide tolerance, so the test is not flaky.
    """
    kratos_env(HASHERS_ALGORITHM="argon2", HASHERS_ARGON2_MEMORY="16MB", HASHERS_ARGON2_PARALLELISM="1")
    app = Flows("api")
    flow = app.start("login")
    app.submit(flow, method="password", identifier="nobody@example.org", password="x")  # warm the dummy hash
    _rehash_as_configured(ada["id"])

    def median(identifier: str) -> float:
        samples = []
        for _ in range(7):
            started = time.perf_counter()
            response = app.submit(flow, method="password", identifier=identifier, password="wrong password")
            samples.append(time.perf_counter() - started)
            assert response.status_code == 400
        return statistics.median(samples)

    known, unknown = median("ada@example.org"), median("nobody@example.org")

    assert 0.5 < unknown / known < 2.0, (known, unknown)


def _rehash_as_configured(identity_id: str) -> None:
    """Give Ada a hash with the configured (slow) parameters, as a user registered today has."""
    from kratos_project.config import get_config
    from kratos_project.tenancy import bind_network, default_nid

    with bind_network(default_nid()):
        credential = Identity.objects.get(id=identity_id).credentials.get(type="password")
        credential.config = {"hashed_password": hashing.hash_password(PASSWORD, get_config().hashers)}
        credential.save()


@pytest.mark.django_db(transaction=True)
def test_parallel_registrations_of_one_identifier_make_one_identity(kratos_env):
    kratos_env(SELFSERVICE_FLOWS_REGISTRATION_STYLE="unified")
    apps = [Flows("api") for _ in range(20)]
    started = [app.start("registration") for app in apps]
    barrier, statuses = threading.Barrier(len(apps)), []

    def register(app: Flows, flow: dict) -> None:
        from django.db import connection

        barrier.wait()
        try:
            response = app.submit(flow, method="password", password=PASSWORD, traits={"email": "ada@example.org"})
            statuses.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=pair) for pair in zip(apps, started, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(code for code, _ in statuses) == [200] + [400] * 19
    assert all(body["ui"]["messages"][0]["id"] == 4000007 for code, body in statuses if code == 400)
    assert Identity.all_networks.count() == 1


def test_signed_in_browser_is_not_redirected_to_a_foreign_return_to(ada):
    browser = Flows("browser")
    browser.submit(browser.start("login"), **_login_body())

    response = browser.client.get("/self-service/login/browser", {"return_to": "https://evil.example/"},
                                  HTTP_ACCEPT=HTML)

    assert response.status_code in (303, 400)
    assert "evil.example" not in response.get("Location", "")
