"""Browser tests: Debian's Chromium, headless, driven by Playwright through the default pages of a
real server (`manage.py serve`, as tests/compat starts it).

Playwright's own browser download cannot work here, so the tests launch `/usr/bin/chromium`
(`scripts/test` installs it with apt). Without it, or without the `playwright` package, the tests
are skipped locally with the reason, and fail in CI (`CI=true`), which must run them.

Each test leaves a screenshot of its last page in var/screenshots/ (CI keeps it as an artifact).
Playwright runs an event loop while it is open, so it is opened per module, never for the whole
session: tests that use Django's ORM in this process must not run inside it.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.compat.conftest import Inbox, KratosServer, courier_config, inbox, running_server  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing that reaches out to Google's services on its own.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = ROOT / "var" / "screenshots"
PASSWORD = "correct horse battery staple 42"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives the default pages in headless Chromium (-m 'not browser')")


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: CI must run the browser tests (scripts/test installs chromium with apt)")
    pytest.skip(f"browser tests skipped: {reason} (scripts/test installs it: apt-get install chromium)")


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def new_page(chromium: Any) -> Iterator[Callable[..., Any]]:
    """Pages of browsers of their own (separate cookie jars); `viewport` as (width, height)."""
    contexts: list[Any] = []

    def open_page(viewport: tuple[int, int] = (1024, 820)) -> Any:
        context = chromium.new_context(viewport={"width": viewport[0], "height": viewport[1]}, locale="en-US")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Any], request: pytest.FixtureRequest) -> Iterator[Any]:
    """A browser page; its last state is saved as var/screenshots/<module>-<test>.png."""
    opened = new_page()
    yield opened
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = f"{request.node.module.__name__.rsplit('.', 1)[-1]}-{request.node.name}"
    opened.screenshot(path=str(SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}.png"), full_page=True)


def pages_config(server: KratosServer) -> dict[str, Any]:
    """The pages' configuration: no `ui_url` set, so every flow uses the server's own pages, which are
    also where a browser goes after signing in; verification and recovery by code."""
    return {"selfservice": {
        "default_browser_return_url": f"{server.public_url}/ui/",
        "flows": {
            "verification": {"enabled": True, "use": "code"},
            "recovery": {"enabled": True, "use": "code"},
            # After registering, the browser is sent to the verification page.
            "registration": {"after": {"password": {"hooks": [{"hook": "session"}, {"hook": "show_verification_ui"}]}}},
        },
    }}


@pytest.fixture(scope="module")
def pages_server(tmp_path_factory: pytest.TempPathFactory, inbox: Inbox) -> Iterator[KratosServer]:
    """One server per module, its courier delivering to `inbox`."""
    def config(server: KratosServer) -> dict[str, Any]:
        return {**pages_config(server), **courier_config(inbox.server.port)}

    with running_server(tmp_path_factory.mktemp("pages-server"), config, "--watch-courier", "--workers", "1") as server:
        yield server


@pytest.fixture
def email() -> str:
    """The server lives for the module: every test signs up with an address of its own."""
    return f"ada-{secrets.token_hex(4)}@example.org"


def create_identity(server: KratosServer, email: str, password: str = PASSWORD) -> dict[str, Any]:
    """An identity made through the admin API, as an operator would."""
    body = {"schema_id": "default", "traits": {"email": email},
            "credentials": {"password": {"config": {"password": password}}}}
    request = urllib.request.Request(f"{server.admin_url}/admin/identities", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def mailed_code(inbox: Inbox, address: str, count: int = 1) -> str:
    """The 6-digit code of the `count`-th mail to `address`."""
    mail = inbox.wait_for(address, count)[count - 1]
    return re.findall(r"^(\d{6})\s*$", mail.get_body(preferencelist=("plain",)).get_content(), re.MULTILINE)[0]


def field(page: Any, label: str) -> Any:
    """The input labelled `label` (a section may carry the same name)."""
    return page.get_by_label(label).and_(page.locator("input"))


def sign_in(page: Any, server: KratosServer, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{server.public_url}/ui/login")
    field(page, "E-Mail").fill(email)
    field(page, "Password").fill(password)
    page.get_by_role("button", name="Sign in with password").click()


def expect_home(page: Any, server: KratosServer, email: str) -> None:
    page.wait_for_url(f"{server.public_url}/ui/")
    assert page.get_by_role("heading", name="Your account").is_visible()
    assert page.locator("dd", has_text=email).first.is_visible()
