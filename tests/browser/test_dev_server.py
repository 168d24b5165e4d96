"""`./scripts/serve` on a fresh checkout is usable in a browser at once: `serve --dev` with no config
file at all serves the default pages, signing up signs in, and a browser lands on the pages' home."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import PASSWORD, expect_home, field, sign_in
from tests.compat.conftest import KratosServer, bare_dev_server

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KratosServer]:
    with bare_dev_server(tmp_path_factory.mktemp("dev-server")) as server:
        yield server


def test_sign_up_and_in_on_a_server_without_configuration(page: Any, dev_server: KratosServer, email: str) -> None:
    page.goto(f"{dev_server.public_url}/ui/")
    page.wait_for_url("**/ui/login?flow=*")  # signed out: the home asks to sign in first
    page.get_by_role("link", name="Create an account").click()
    field(page, "E-Mail").fill(email)
    field(page, "First name").fill("Ada")
    page.get_by_role("button", name="Sign up").click()
    field(page, "Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()

    expect_home(page, dev_server, email)
    page.get_by_role("link", name="Sign out").click()
    page.wait_for_url("**/ui/login?flow=*")
    sign_in(page, dev_server, email)
    expect_home(page, dev_server, email)
