"""The operator console (Django admin on the admin port) in a real browser: an operator signs in with
a `createsuperuser` account, finds a user by identifier, and revokes one of the user's sessions, which
ends it in the user's own browser. The console answers on the admin port only.
"""
from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import create_identity, expect_home, sign_in
from tests.compat.conftest import KratosServer, manage

pytestmark = pytest.mark.browser

OPERATOR = "operator"


@pytest.fixture(scope="module")
def operator_password(pages_server: KratosServer) -> str:
    """A superuser of the server's own database, made as the README tells operators to."""
    password = secrets.token_urlsafe(16)
    manage(pages_server, "createsuperuser", "--noinput", "--username", OPERATOR, "--email", "ops@example.org",
           env={"DJANGO_SUPERUSER_PASSWORD": password})
    return password


@pytest.fixture
def console(page: Any, pages_server: KratosServer, operator_password: str) -> Iterator[Any]:
    """The test's page, signed in to the console; every stylesheet, script and image it loads must
    load (the admin port serves them itself)."""
    failed: list[str] = []
    page.on("response", lambda response: response.status < 400 or failed.append(f"{response.status} {response.url}"))
    page.goto(f"{pages_server.admin_url}/console/")
    page.wait_for_url("**/console/login/?next=/console/")
    page.get_by_label("Username").fill(OPERATOR)
    page.get_by_label("Password").fill(operator_password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{pages_server.admin_url}/console/")
    assert page.locator("#header").evaluate("header => getComputedStyle(header).display") == "flex"  # styled
    yield page
    assert failed == []


def test_operator_finds_a_user_and_revokes_one_session(console: Any, new_page: Callable[..., Any],
                                                       pages_server: KratosServer, email: str) -> None:
    create_identity(pages_server, email)
    bystander = f"grace-{secrets.token_hex(4)}@example.org"
    create_identity(pages_server, bystander)
    phone, laptop, other_user = new_page(), new_page(), new_page()
    for browser, address in ((phone, email), (laptop, email), (other_user, bystander)):
        sign_in(browser, pages_server, address)
        expect_home(browser, pages_server, address)

    # Search identities by a prefix of the identifier: the user alone, not the bystander.
    console.get_by_role("link", name="Identities", exact=True).and_(console.locator("[href$=\"/identity/\"]")).click()
    console.get_by_role("textbox", name="Search").fill(email[:12].upper())
    console.get_by_role("button", name="Search").click()
    rows = console.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)  # the page after the search: a count alone does not wait for it
    rows.get_by_role("link").first.click()

    # The identity page lists both sessions and links to them in the session list.
    sessions_section = console.locator("fieldset", has=console.get_by_role("heading", name="Sessions"))
    expect(sessions_section.locator("tbody tr")).to_have_count(2)
    sessions_section.get_by_role("link", name="All sessions of this identity").click()
    rows = console.locator("#result_list tbody tr")
    expect(rows.filter(has_text=email)).to_have_count(2)
    expect(rows).to_have_count(2)

    # Revoke the newest one (the laptop's: the list is newest first).
    newest = rows.first
    revoked_id = newest.locator("th a").inner_text()
    newest.get_by_role("checkbox").check()
    console.get_by_role("combobox", name="Action").select_option(label="Revoke selected sessions")
    console.get_by_role("button", name="Go").click()
    expect(console.locator(".messagelist")).to_contain_text("1 sessions revoked.")
    console.get_by_role("link", name="No").first.click()  # the Active filter
    expect(rows).to_have_count(1)
    expect(rows.locator("th a")).to_have_text(revoked_id)

    # The laptop is signed out; the phone and the other user are not.
    laptop.goto(f"{pages_server.public_url}/ui/")
    laptop.wait_for_url("**/ui/login?flow=*")
    for browser, address in ((phone, email), (other_user, bystander)):
        browser.goto(f"{pages_server.public_url}/ui/")
        expect_home(browser, pages_server, address)


def test_console_is_not_on_the_public_port(page: Any, pages_server: KratosServer, operator_password: str) -> None:
    response = page.goto(f"{pages_server.public_url}/console/login/")
    assert response.status == 404
    assert page.get_by_label("Username").count() == 0
