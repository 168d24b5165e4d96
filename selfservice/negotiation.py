"""Who is asking: an HTML browser (redirects), a JSON client (SPA or SDK), or a native app (api flow).

Kratos negotiates `Accept` over the offers text/html, text/*, */*, application/json with HTML as the
default, so `Accept: */*` (curl, python-requests) is an HTML client and gets redirects; the SDKs send
`Accept: application/json`. A request also counts as JSON when its Content-Type is exactly JSON.
"""
from __future__ import annotations

from django.http import HttpRequest

_OFFERS = ("text/html", "text/*", "*/*", "application/json")


def _accept_clauses(header: str) -> list[tuple[float, int, str]]:
    clauses = []
    for position, part in enumerate(header.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        if not media:
            continue
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        specificity = 0 if media == "*/*" else 1 if media.endswith("/*") else 2
        clauses.append((quality, specificity, media, position))
    # Highest quality first, then the most specific, then header order (as goautoneg sorts them).
    clauses.sort(key=lambda c: (-c[0], -c[1], c[3]))
    return [(q, s, m) for q, s, m, _ in clauses]


def _matches(clause: str, offer: str) -> bool:
    if clause == "*/*":
        return True
    if clause.endswith("/*"):
        return offer.split("/")[0] == clause[:-2]
    return clause == offer


def negotiated(request: HttpRequest) -> str:
    header = request.headers.get("Accept", "")
    if not header:
        return _OFFERS[0]
    for quality, _, media in _accept_clauses(header):
        if quality <= 0:
            continue
        for offer in _OFFERS:
            if _matches(media, offer):
                return offer
    return _OFFERS[0]


def accepts_json(request: HttpRequest) -> bool:
    """Flow-init endpoints decide by `Accept` alone."""
    return negotiated(request) == "application/json"


def is_json_request(request: HttpRequest) -> bool:
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip().lower()
    return accepts_json(request) or content_type == "application/json"


def request_url(request: HttpRequest) -> str:
    """The URL as the client saw it (behind a proxy: X-Forwarded-Proto/Host), as Kratos records it."""
    scheme = request.headers.get("X-Forwarded-Proto") or request.scheme
    host = request.headers.get("X-Forwarded-Host") or request.get_host()
    return f"{scheme}://{host}{request.get_full_path()}"
