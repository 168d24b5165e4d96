"""The default pages in a real browser, the way people use them: sign up, verify the address with the
mailed code, sign out and in, change the password, recover the account, manage sessions.

Every form is the page's own, posting to the flow endpoints; the tests only type and click.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, create_identity, expect_home, field, mailed_code, sign_in
from tests.compat.conftest import Inbox, KratosServer

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a brand new passphrase 9"


def test_register_verify_sign_out_and_in(page: Any, pages_server: KratosServer, inbox: Inbox, email: str) -> None:
    page.goto(f"{pages_server.public_url}/ui/registration")
    assert "/ui/registration?flow=" in page.url
    field(page, "E-Mail").fill(email)
    field(page, "First Name").fill("Ada")
    page.get_by_role("button", name="Sign up").click()

    # The second step: a password too short is refused, the error tied to the field and focused.
    field(page, "Password").fill("short")
    page.get_by_role("button", name="Sign up").click()
    password = field(page, "Password")
    assert password.get_attribute("aria-invalid") == "true"
    hint = page.locator(f"#{password.get_attribute('aria-describedby')}")
    assert "at least 8 characters" in hint.inner_text()
    assert password.evaluate("element => element === document.activeElement")
    password.fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    # Signed up and in: the verification page, the code from the mail.
    page.wait_for_url("**/ui/verification?flow=*")
    assert "verification code" in page.get_by_role("status").first.inner_text()
    field(page, "Verification code").fill(mailed_code(inbox, email))
    page.get_by_role("button", name="Continue").click()
    assert "successfully verified" in page.get_by_role("status").first.inner_text()
    page.get_by_role("link", name="Continue").click()
    expect_home(page, pages_server, email)
    assert page.locator("dd", has_text=email).locator(".badge").inner_text() == "verified"

    page.get_by_role("link", name="Sign out").click()
    page.wait_for_url("**/ui/login?flow=*")
    sign_in(page, pages_server, email)
    expect_home(page, pages_server, email)


def test_change_password_in_settings(page: Any, pages_server: KratosServer, email: str) -> None:
    create_identity(pages_server, email)
    sign_in(page, pages_server, email)
    expect_home(page, pages_server, email)
    page.get_by_role("link", name="Account settings").click()
    page.wait_for_url("**/ui/settings?flow=*")

    # Profile and password are forms of their own: the password form posts no traits.
    password_form = page.get_by_role("region", name="Password")
    password_form.get_by_label("Password").fill(NEW_PASSWORD)
    password_form.get_by_role("button", name="Save").click()
    assert "Your changes have been saved!" in page.get_by_role("status").first.inner_text()

    page.goto(f"{pages_server.public_url}/ui/")
    page.get_by_role("link", name="Sign out").click()
    sign_in(page, pages_server, email, PASSWORD)
    assert "credentials are invalid" in page.get_by_role("alert").inner_text()
    sign_in(page, pages_server, email, NEW_PASSWORD)
    expect_home(page, pages_server, email)


def test_recover_the_account_by_code_on_a_phone(new_page: Callable[..., Any], page: Any, pages_server: KratosServer,
                                                 inbox: Inbox, email: str) -> None:
    create_identity(pages_server, email)
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"{pages_server.public_url}/ui/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.wait_for_url("**/ui/recovery?flow=*")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
    field(page, "Email").fill(email)
    page.get_by_role("button", name="Continue").click()
    assert "recovery code" in page.get_by_role("status").first.inner_text()

    field(page, "Recovery code").fill(mailed_code(inbox, email))
    page.get_by_role("button", name="Continue").click()
    # Recovered and signed in: the settings page asks for a new password.
    page.wait_for_url("**/ui/settings?flow=*")
    assert "successfully recovered your account" in page.get_by_role("status").first.inner_text()
    page.get_by_role("region", name="Password").get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("region", name="Password").get_by_role("button", name="Save").click()
    assert "Your changes have been saved!" in page.get_by_role("status").first.inner_text()

    other = new_page()
    sign_in(other, pages_server, email, NEW_PASSWORD)
    expect_home(other, pages_server, email)


def test_home_lists_the_sessions_and_revokes_one(new_page: Callable[..., Any], page: Any,
                                                 pages_server: KratosServer, email: str) -> None:
    create_identity(pages_server, email)
    laptop = new_page()
    sign_in(laptop, pages_server, email)
    sign_in(page, pages_server, email)
    expect_home(page, pages_server, email)
    sessions = page.locator("ul.sessions > li")
    assert sessions.count() == 2
    assert sessions.filter(has_text="This device").count() == 1

    sessions.filter(has=page.get_by_role("button", name="Revoke")).get_by_role("button").click()
    page.wait_for_url(f"{pages_server.public_url}/ui/")
    assert page.locator("ul.sessions > li").count() == 1
    # The other browser's session has ended: its home sends it to sign in.
    laptop.goto(f"{pages_server.public_url}/ui/")
    laptop.wait_for_url("**/ui/login?flow=*")


def test_login_page_works_by_keyboard(page: Any, pages_server: KratosServer, email: str) -> None:
    """Focus order is the visual order; the README's screenshot is this test's."""
    create_identity(pages_server, email)
    page.goto(f"{pages_server.public_url}/ui/login")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "identifier"
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "password"
    page.keyboard.press("Tab")
    assert page.evaluate("[document.activeElement.name, document.activeElement.value]") == ["method", "password"]
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Create an account"
    field(page, "E-Mail").fill("")  # an empty form for the screenshot (docs/login.png)
