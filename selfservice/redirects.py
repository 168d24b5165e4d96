"""Where browsers are sent: the UI of each flow, and `return_to` allow-listing (Kratos's SecureRedirectTo).

A flow's UI is its `selfservice.flows.<flow>.ui_url`, or, while that is unconfigured (still Kratos's
ory.sh fallback), this server's default page for it (selfservice/pages.py), unless
`KRATOS_DEFAULT_PAGES=0` unmounted the pages.

A return URL must match an entry of `selfservice.allowed_return_urls` (same scheme, same host — or a
subdomain of a `*.example.com` entry, never the apex — and a path under the entry's path) or point at
this server's own self-service endpoints or default pages. A relative URL borrows scheme and host from
`selfservice.default_browser_return_url` first.
"""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from django.conf import settings

from kratos_project.config import get_config
from selfservice.errors import ReturnToForbidden, UnparsableReturnTo

PAGES_PATH = "ui/"  # the default pages' prefix on the public port
# Kratos's schema default of every `selfservice.flows.<flow>.ui_url` is a page under this prefix that
# only says the UI is not configured.
_UNCONFIGURED_UI = "https://www.ory.sh/kratos/docs/fallback/"


def pages_enabled() -> bool:
    return bool(settings.KRATOS_DEFAULT_PAGES)


def page_url(page: str = "") -> str:
    """A default page's absolute URL, `page` being e.g. "login" (or "" for the signed-in home)."""
    return f"{get_config().public.base_url}{PAGES_PATH}{page}"


def uses_default_page(flow: str) -> bool:
    """Whether the default page serves `flow` (login, …, error): pages on and its `ui_url` unconfigured."""
    configured = str(get_config().get(f"selfservice.flows.{flow}.ui_url"))
    return pages_enabled() and configured.startswith(_UNCONFIGURED_UI)


def ui_url(flow: str) -> str:
    """The UI a browser is sent to for `flow`: the configured `ui_url`, else the default page."""
    return page_url(flow) if uses_default_page(flow) else str(get_config().get(f"selfservice.flows.{flow}.ui_url"))


def _allowed_entries() -> list[str]:
    config = get_config()
    entries = [str(u) for u in config.get("selfservice.allowed_return_urls") or ()]
    entries.append(config.public.base_url + "self-service")
    if pages_enabled():
        entries.append(page_url())
    return entries


def _host_matches(entry_host: str, host: str) -> bool:
    if entry_host.startswith("*."):
        return host.endswith(entry_host[1:]) and host != entry_host[2:]
    return host == entry_host


def is_allowed(url: str) -> bool:
    target = urlsplit(url)
    if not target.scheme or not target.netloc:
        return False
    for entry in _allowed_entries():
        allowed = urlsplit(entry)
        if allowed.netloc in ("*",) or allowed.hostname is None:
            continue
        if (target.scheme.lower() == allowed.scheme.lower()
                and _host_matches(allowed.netloc.lower(), target.netloc.lower())
                and target.path.startswith(allowed.path)):
            return True
    return False


def secure_return_to(return_to: str) -> str:
    """The absolute, allow-listed form of `return_to`, or ReturnToForbidden (UnparsableReturnTo)."""
    if not return_to:
        return ""
    try:
        absolute = urljoin(default_return_url(), return_to) if not urlsplit(return_to).scheme else return_to
        allowed = is_allowed(absolute)
    except ValueError as error:  # e.g. "Invalid IPv6 URL"
        raise UnparsableReturnTo(error) from error
    if not allowed:
        raise ReturnToForbidden(return_to)
    return absolute


def default_return_url(flow: str | None = None, method: str | None = None) -> str:
    """`selfservice.flows.<flow>.after[.<method>].default_browser_return_url`, else the global one."""
    config = get_config()
    candidates = []
    if flow and method:
        candidates.append(f"selfservice.flows.{flow}.after.{method}.default_browser_return_url")
    if flow:
        candidates.append(f"selfservice.flows.{flow}.after.default_browser_return_url")
    for key in candidates:
        if value := config.get(key):
            return str(value)
    return str(config.get("selfservice.default_browser_return_url"))
