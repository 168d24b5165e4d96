"""`return_to` allow-listing (Kratos's SecureRedirectTo): no open redirects.

A return URL must match an entry of `selfservice.allowed_return_urls` (same scheme, same host — or a
subdomain of a `*.example.com` entry, never the apex — and a path under the entry's path) or point at
this server's own self-service endpoints. A relative URL borrows scheme and host from
`selfservice.default_browser_return_url` first.
"""
from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from kratos_project.config import get_config
from selfservice.errors import ReturnToForbidden


def _allowed_entries() -> list[str]:
    config = get_config()
    entries = [str(u) for u in config.get("selfservice.allowed_return_urls") or ()]
    entries.append(config.public.base_url + "self-service")
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
    """The absolute, allow-listed form of `return_to`, or ReturnToForbidden."""
    if not return_to:
        return ""
    absolute = urljoin(default_return_url(), return_to) if not urlsplit(return_to).scheme else return_to
    if not is_allowed(absolute):
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
