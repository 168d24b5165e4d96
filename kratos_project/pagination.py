"""Kratos's pagination styles: keyset (`page_size`/`page_token`, `Link` first/next) and legacy pages.

Keyset pages cost the same at any depth: the token is the last key seen and the query is
`WHERE key > token ORDER BY key LIMIT size + 1`, never an OFFSET.
"""
from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from django.http import HttpRequest, QueryDict

from kratos_project.errors import BadRequest

T = TypeVar("T")
LEGACY_PAGE_LIMIT = 1000  # Kratos refuses legacy page pagination past this many items
_INT64 = range(-(2**63), 2**63)  # Go's int: strconv refuses what lies outside


@dataclass(frozen=True)
class KeysetRequest:
    size: int
    token: str | None


@dataclass(frozen=True)
class PageRequest:
    page: int
    per_page: int


def _int_param(query: QueryDict, name: str) -> int | None:
    raw = query.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError as error:
        raise BadRequest(f'strconv.Atoi: parsing "{raw}": invalid syntax') from error
    if value not in _INT64:
        raise BadRequest(f'strconv.Atoi: parsing "{raw}": value out of range')
    return value


def _clamp(value: int | None, default: int, maximum: int) -> int:
    if value is None or value < 1:
        return default
    return min(value, maximum)


def parse_keyset_or_page(query: QueryDict, *, default_size: int = 250, max_size: int = 500) -> KeysetRequest | PageRequest:
    """As Kratos's ParseKeysetOrPagePagination: new-style parameters win, then legacy `page`."""
    if "page_token" not in query and "page_size" not in query and "page" in query:
        page = max(_int_param(query, "page") or 0, 0)
        per_page = _clamp(_int_param(query, "per_page"), default_size, max_size)
        if page * per_page > LEGACY_PAGE_LIMIT:
            raise BadRequest(
                f"Legacy pagination is not supported for enumerating over {LEGACY_PAGE_LIMIT} items. "
                "Please switch to using page_token and page_size."
            )
        return PageRequest(page, per_page)
    size_param = "page_size" if "page_size" in query or "per_page" not in query else "per_page"
    size = _clamp(_int_param(query, size_param), default_size, max_size)
    return KeysetRequest(size=size, token=query.get("page_token") or None)


def keyset_page(fetch: Callable[[int], Sequence[T]], size: int) -> tuple[list[T], bool]:
    """Fetch one row more than asked to learn whether a next page exists."""
    rows = list(fetch(size + 1))
    return rows[:size], len(rows) <= size


def _link(request: HttpRequest, rel: str, params: dict[str, Any]) -> str:
    query = request.GET.copy()
    for key, value in params.items():
        query[key] = str(value)
    encoded = urlencode(sorted((k, v) for k in query for v in query.getlist(k)))
    return f'<{request.path}?{encoded}>; rel="{rel}"'


def keyset_link_header(request: HttpRequest, *, size: int, first_token: str, next_token: str | None) -> str:
    links = [_link(request, "first", {"page_token": first_token, "page_size": size})]
    if next_token is not None:
        links.append(_link(request, "next", {"page_token": next_token, "page_size": size}))
    return ",".join(links)


def page_link_header(request: HttpRequest, *, page: int, per_page: int, total: int) -> str:
    last = max((total - 1) // per_page, 0)
    rels = {"first": 0, "next": page + 1 if page < last else None, "prev": page - 1 if page > 0 else None, "last": last}
    return ",".join(_link(request, rel, {"page": p, "per_page": per_page}) for rel, p in rels.items() if p is not None)


# --- offset lists (ory/x migrationpagination): GET /sessions, GET /admin/identities/{id}/sessions ---

OFFSET_DEFAULT_SIZE = 250
OFFSET_MAX_SIZE = 1000
# Past any table, and within every database's OFFSET (a signed 64-bit integer): a page beyond is empty.
_MAX_OFFSET = 2**62
_GO_INT = re.compile(r"[+-]?\d+")


def parse_offset_pagination(query: QueryDict) -> PageRequest:
    """`page_token`/`page_size` (the token holds an offset) if either is present, else `page`/`per_page`.

    As ory/x, unreadable values fall back to defaults instead of failing: a bad token means offset 0,
    a bad size the default, a size below 1 is 1 and one above the maximum is the maximum.
    """
    if "page_token" in query or "page_size" in query:
        per_page = _clamped_size(query.get("page_size"))
        offset = _offset_from_token(query.get("page_token") or "")
        page = offset // per_page if offset > 0 else 0
    else:
        per_page = _clamped_size(query.get("per_page"))
        page = max(_go_int(query.get("page")) or 0, 0)
    return PageRequest(page=min(page, _MAX_OFFSET // per_page), per_page=per_page)


def _go_int(raw: str | None) -> int | None:
    """What strconv.Atoi reads, or None where it fails (not an integer, or out of int64's range)."""
    if raw is None or not _GO_INT.fullmatch(raw) or (value := int(raw)) not in _INT64:
        return None
    return value


def _clamped_size(raw: str | None) -> int:
    size = _go_int(raw)
    return OFFSET_DEFAULT_SIZE if size is None else min(max(size, 1), OFFSET_MAX_SIZE)


def encode_offset_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f'{{"offset":"{offset}","v":2}}'.encode()).decode().rstrip("=")


def _offset_from_token(token: str) -> int:
    try:
        document = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(document.get("offset", 0)) if isinstance(document, dict) else 0
    except (ValueError, TypeError):
        return 0


def offset_link_header(request: HttpRequest, *, page: int, per_page: int, total: int) -> str:
    """ory/x HeaderWithFormatter with the migration formatter: each link carries both parameter styles.

    Its quirks are kept: the first page has no `first` link, a list that fits one page gets only
    `first` (sized to the total), and an empty list gets `first`, `next` and a negative `prev`.
    """
    offset = page * per_page
    last = total - per_page if total % per_page == 0 else total // per_page * per_page
    step = offset // per_page

    def link(rel: str, at: int, size: int = per_page) -> str:
        params = {"page": at // size, "page_size": size, "page_token": encode_offset_token(at), "per_page": size}
        return _link(request, rel, params)

    if offset >= last:
        if total == 0:
            return ",".join([link("first", 0), link("next", (step + 1) * per_page), link("prev", (step - 1) * per_page)])
        if total <= per_page:
            return link("first", 0, size=total)
        return ",".join([link("first", 0), link("prev", last - per_page)])
    if offset < per_page:
        return ",".join([link("next", per_page), link("last", last)])
    return ",".join([link("first", 0), link("next", (step + 1) * per_page), link("prev", (step - 1) * per_page),
                     link("last", last)])
