"""An expired flow in the browser: the error page says so and starts a new one; a form submitted too
late comes back as a fresh flow saying why. A server of its own, whose login flows last 2 seconds."""
from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import pages_config
from tests.compat.conftest import KratosServer, running_server

pytestmark = pytest.mark.browser

LIFESPAN_SECONDS = 2


@pytest.fixture(scope="module")
def short_flows_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KratosServer]:
    def config(server: KratosServer) -> dict[str, Any]:
        tree = pages_config(server)
        tree["selfservice"]["flows"]["login"] = {"lifespan": f"{LIFESPAN_SECONDS}s"}
        return tree

    with running_server(tmp_path_factory.mktemp("short-flows-server"), config, "--workers", "1") as server:
        yield server


def test_expired_login_flow(page: Any, short_flows_server: KratosServer) -> None:
    page.goto(f"{short_flows_server.public_url}/ui/login")
    expired_url = page.url
    time.sleep(LIFESPAN_SECONDS + 0.5)

    # Submitted too late: a new flow, with the reason.
    page.get_by_label("E-Mail").fill("ada@example.org")
    page.get_by_label("Password").fill("whatever it was")
    page.get_by_role("button", name="Sign in with password").click()
    page.wait_for_url(lambda url: "/ui/login?flow=" in url and url != expired_url)
    assert "The login flow expired" in page.get_by_role("alert").inner_text()

    # Opened too late: the error page, whose link starts again.
    time.sleep(LIFESPAN_SECONDS + 0.5)
    page.reload()
    page.wait_for_url("**/ui/error?id=*")
    assert page.get_by_role("heading", name="Something went wrong").is_visible()
    assert "expired" in page.get_by_role("alert").inner_text()
    page.get_by_role("link", name="Start again").click()
    page.wait_for_url("**/ui/login?flow=*")
    assert page.get_by_role("button", name="Sign in with password").is_visible()
    page.goto(page.url.replace("/ui/login", "/ui/error").replace("flow=", "id="))  # a bad error id
    assert page.get_by_role("alert").inner_text().startswith("The requested error could not be found")
