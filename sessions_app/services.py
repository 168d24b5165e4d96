"""Session use cases (Kratos `session/manager_http.go`, `persistence/sql/persister_session.go`).

The self-service flows call `issue_session` on a successful sign-in and `session_from_request`
wherever a caller's session matters; the public and admin session APIs, identity deactivation and
`manage.py cleanup` use the rest. Sessions are found by the hash of their token only.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse

from identities.api.serializers import identity_json
from identities.models import Identity, RecoveryAddress, VerifiableAddress
from kratos_project import clock
from kratos_project.config import get_config, parse_duration
from kratos_project.errors import BadRequest, ResourceNotFound
from kratos_project.jsontime import rfc3339
from sessions_app import cookies, reads
from sessions_app.models import AAL, Session
from sessions_app.tokens import new_session_token, token_hash

DEVICE_FIELD_MAX_BYTES = 512  # Kratos truncates user agent and location to this many bytes
# Go's net.IP.IsPrivate: RFC 1918 and RFC 4193 only (loopback and link-local count as public).
_PRIVATE_NETWORKS = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"))
# The methods Kratos counts as a first or a second factor when an entry carries no `aal` (old rows).
_FIRST_FACTORS = frozenset({"code_recovery", "oidc", "v0.6_legacy_session", "password"})
_SECOND_FACTORS = frozenset({"webauthn", "totp", "lookup_secret"})


# --- configuration ---------------------------------------------------------------------------


def session_lifespan() -> timedelta:
    return parse_duration(get_config().get("session.lifespan") or "24h")


def earliest_possible_extend() -> timedelta:
    """How little time must be left before an extend takes effect; the lifespan (always) by default."""
    configured = get_config().get("session.earliest_possible_extend")
    return parse_duration(configured) if configured else session_lifespan()


# --- issuing ---------------------------------------------------------------------------------


def issue_session(identity: Identity, *, method: str, aal: str = AAL.AAL1,
                  request: HttpRequest | None = None) -> tuple[Session, str]:
    """A new active session for `identity`, signed in with `method`; returns it and its clear token.

    The token is returned once and never stored: the caller hands it to an API client or seals it
    into the session cookie (`cookies.set_session_cookie`).
    """
    now = clock.now()
    token = new_session_token()
    methods = [{"method": method, "aal": aal, "completed_at": rfc3339(now)}]
    session = Session.objects.create(
        nid_id=identity.nid_id, identity=identity, token_hash=token_hash(token), active=True,
        expires_at=now + session_lifespan(), authenticated_at=now, issued_at=now, aal=assurance_level(methods),
        authentication_methods=methods,
        devices=[device_from_request(request)] if request is not None else [],
    )
    return session, token


def assurance_level(methods: list[dict[str, Any]]) -> str:
    """Kratos's SetAuthenticatorAssuranceLevel: aal2 needs a first and a second factor."""
    if not methods:
        return AAL.AAL0
    levels = {m.get("aal") or _default_aal(m.get("method", "")) for m in methods}
    # A lone second factor still counts as aal1, as in Kratos.
    return AAL.AAL2 if {AAL.AAL1, AAL.AAL2} <= levels else AAL.AAL1


def _default_aal(method: str) -> str:
    return AAL.AAL1 if method in _FIRST_FACTORS else AAL.AAL2 if method in _SECOND_FACTORS else ""


def device_from_request(request: HttpRequest) -> dict[str, Any]:
    """Kratos's SetSessionDeviceInformation: client IP, user agent, Cloudflare's city and country."""
    user_agent = request.META.get("HTTP_USER_AGENT")
    location = ", ".join(v for v in (request.META.get("HTTP_CF_IPCITY"), request.META.get("HTTP_CF_IPCOUNTRY")) if v)
    return {
        "id": str(uuid.uuid4()),
        "ip_address": client_ip(request),
        "user_agent": _truncate(user_agent) if user_agent is not None else None,
        "location": _truncate(location),
    }


def client_ip(request: HttpRequest) -> str:
    """ory/x httpx.ClientIP: proxy headers first; from X-Forwarded-For the last hop that is not private."""
    for header in ("HTTP_TRUE_CLIENT_IP", "HTTP_CF_CONNECTING_IP", "HTTP_X_REAL_IP"):
        if value := request.META.get(header):
            return value
    if forwarded := request.META.get("HTTP_X_FORWARDED_FOR"):
        hops = [hop.strip() for hop in forwarded.split(",")]
        return next((hop for hop in reversed(hops) if not _is_private(hop)), "")
    return request.META.get("REMOTE_ADDR", "")


def _is_private(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # Go's IsPrivate of an unparsable address is false: it is kept
    return any(ip in network for network in _PRIVATE_NETWORKS if network.version == ip.version)


def _truncate(value: str) -> str:
    return value.encode()[:DEVICE_FIELD_MAX_BYTES].decode(errors="ignore")


# --- finding ---------------------------------------------------------------------------------


def request_token(request: HttpRequest) -> str | None:
    """The session token a request carries, in Kratos's order: header, cookie, then bearer.

    A cookie that is present but cannot be opened falls through to the bearer header, as in Kratos.
    """
    if token := request.headers.get("X-Session-Token"):
        return token
    if token := cookies.token_from_cookie(request):
        return token
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials and " " not in credentials:
        return credentials
    return None


def session_from_request(request: HttpRequest) -> Session | None:
    """The caller's valid session (active, unexpired, identity active) with its identity, or None."""
    found = session_and_token_from_request(request)
    return found[0] if found else None


def session_and_token_from_request(request: HttpRequest) -> tuple[Session, str] | None:
    """The caller's valid session and the clear token that found it (logout derives its token from it)."""
    token = request_token(request)
    session = session_by_token(token) if token else None
    return (session, token) if session is not None and token else None


def session_by_token(token: str) -> Session | None:
    """The valid session of a token, with its identity, in one query found by the token's hash."""
    session = reads.session_with_identity(token_hash(token))
    return session if session is not None and session.is_active(clock.now()) else None


def get_session(session_id: uuid.UUID) -> Session:
    try:
        return Session.objects.select_related("identity").get(id=session_id)
    except Session.DoesNotExist as error:
        raise ResourceNotFound() from error


def refresh_session_cookie(request: HttpRequest, response: HttpResponse, session: Session) -> None:
    """Re-issue the request's cookie when it records an earlier expiry than the session now has
    (e.g. after an admin extend), as Kratos's whoami does; only the cookie of this very session."""
    payload = cookies.read_session_cookie(request)
    if payload is None or token_hash(payload.session_token) != session.token_hash:
        return
    if payload.expires_at is None or payload.expires_at < session.expires_at:
        cookies.set_session_cookie(response, session, payload.session_token)


# --- ending ----------------------------------------------------------------------------------


def revoke_session(session: Session) -> None:
    Session.objects.filter(id=session.id).update(active=False, updated_at=clock.now())
    session.active = False


def revoke_session_by_id(session_id: uuid.UUID) -> None:
    """`DELETE /admin/sessions/{id}`: deactivate; an unknown id is a 404 (Kratos RevokeSessionById)."""
    if not Session.objects.filter(id=session_id).update(active=False, updated_at=clock.now()):
        raise ResourceNotFound()


def revoke_identity_session(identity: Identity, session_id: uuid.UUID) -> None:
    """`DELETE /sessions/{id}`: deactivate one of the identity's sessions; another's id changes nothing."""
    Session.objects.filter(id=session_id, identity=identity).update(active=False, updated_at=clock.now())


def revoke_other_sessions(identity: Identity, keep: Session) -> int:
    """`DELETE /sessions`: every other session of the identity; the count is of rows matched,
    already-revoked ones included, as Kratos's RevokeSessionsIdentityExcept reports it."""
    return Session.objects.filter(identity=identity).exclude(id=keep.id).update(active=False, updated_at=clock.now())


def revoke_identity_sessions(identity: Identity) -> None:
    """End every session of an identity (called when it is deactivated)."""
    Session.objects.filter(identity=identity).update(active=False, updated_at=clock.now())


def delete_identity_sessions(identity_id: uuid.UUID) -> None:
    """`DELETE /admin/identities/{id}/sessions`: remove the rows; none is a 404, as in Kratos."""
    deleted, _ = Session.objects.filter(identity_id=identity_id).delete()
    if not deleted:
        raise ResourceNotFound()


def extend_session(session_id: uuid.UUID) -> Session:
    """`PATCH /admin/sessions/{id}/extend` (Kratos ExtendSession): `expires_at = now + lifespan`, but
    only once less than `session.earliest_possible_extend` is left, which saves writes."""
    with transaction.atomic():
        try:
            session = Session.objects.select_for_update().get(id=session_id)
        except Session.DoesNotExist as error:
            raise ResourceNotFound() from error
        now = clock.now()
        if session.expires_at - earliest_possible_extend() < now:
            session.expires_at = now + session_lifespan()
            session.save(update_fields=["expires_at", "updated_at"])
    return session


# --- lists -----------------------------------------------------------------------------------


def sessions_matching(*, active: bool | None = None) -> QuerySet[Session]:
    """Kratos's `active` filter: the row's flag and expiry only (the identity's state is not read)."""
    queryset = Session.objects.all()
    now = clock.now()
    if active is True:
        queryset = queryset.filter(active=True, expires_at__gte=now)
    elif active is False:
        queryset = queryset.filter(Q(active=False) | Q(expires_at__lt=now))
    return queryset


def identity_sessions(identity_id: uuid.UUID, *, active: bool | None = None,
                      exclude: Session | None = None) -> QuerySet[Session]:
    """An identity's sessions, newest first (offset-paginated by the caller)."""
    queryset = sessions_matching(active=active).filter(identity_id=identity_id)
    if exclude is not None:
        queryset = queryset.exclude(id=exclude.id)
    return queryset.select_related("identity").order_by("-created_at", "id")


_PAGE_TOKEN_INVALID = "The page token is invalid, do not craft your own page tokens"


def _page_token(session_id: str, created_at: str) -> str:
    """Kratos's MapPageToken: unpadded standard base64 of `id=<uuid>/created_at=<time>`."""
    return base64.b64encode(f"id={session_id}/created_at={created_at}".encode()).decode().rstrip("=")


def first_page_token() -> str:
    """The `first` link's token (Kratos Session.DefaultPageToken): the nil id and a far-future time."""
    return _page_token("00000000-0000-0000-0000-000000000000", "2200-12-31 23:59:59")


def page_token_of(session: Session) -> str:
    # Microseconds (Kratos keeps five digits, which can skip rows created within 10 µs of each other).
    created = session.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return _page_token(str(session.id), created)


def sessions_after(queryset: QuerySet[Session], token: str | None, limit: int) -> list[Session]:
    """One keyset page of `GET /admin/sessions`: newest `created_at` first, ties by id."""
    if token:
        after_id, after_created = _parse_page_token(token)
        queryset = queryset.filter(Q(created_at__lt=after_created) | Q(created_at=after_created, id__gt=after_id))
    return list(queryset.order_by("-created_at", "id")[:limit])


def _parse_page_token(token: str) -> tuple[uuid.UUID, datetime]:
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True).decode()
    except (binascii.Error, ValueError) as error:
        # Kratos fails this early step with this (misleading) text as the message.
        raise BadRequest(message="could not parse parameter page_size") from error
    parts = dict(part.partition("=")[::2] for part in decoded.split("/"))
    try:
        created = datetime.fromisoformat(parts["created_at"])
        return uuid.UUID(parts["id"]), created if created.tzinfo else created.replace(tzinfo=UTC)
    except (KeyError, ValueError) as error:
        raise BadRequest(_PAGE_TOKEN_INVALID) from error


# --- JSON ------------------------------------------------------------------------------------


def session_json(session: Session, *, include_identity: bool = True, include_devices: bool = True) -> dict[str, Any]:
    """The session object as Kratos writes it (`session/session.go`; reference §5.1).

    `active` is computed (revoked, expired, or, when the identity is included, inactive identity
    all read as false); the identity is the public shape (no credentials, no metadata_admin). A
    hidden identity is `null`; hidden devices are `null`, as in Kratos's lists.
    """
    identity = None
    if include_identity:
        load_addresses([session.identity])
        identity = identity_json(session.identity, admin=False)
    return {
        "id": str(session.id),
        "active": session.is_active(clock.now(), check_identity=include_identity),
        "expires_at": rfc3339(session.expires_at),
        "authenticated_at": rfc3339(session.authenticated_at),
        "authenticator_assurance_level": session.aal,
        "authentication_methods": session.authentication_methods,
        "issued_at": rfc3339(session.issued_at),
        "identity": identity,
        "devices": session.devices if include_devices else None,
    }


def load_addresses(identities: Iterable[Identity]) -> None:
    """Attach verifiable and recovery addresses to identities in ONE query (a UNION ALL of both tables).

    whoami's budget is two round trips (session with identity, then this); separate prefetches
    would cost one query per table. Identities already carrying their addresses are skipped; rows
    of one identity loaded several times (a page of its sessions) share the lists.
    """
    pending: dict[uuid.UUID, tuple[list[VerifiableAddress], list[RecoveryAddress]]] = {}
    for identity in identities:
        if getattr(identity, "_verifiable_addresses", None) is None:
            lists = pending.setdefault(identity.id, ([], []))
            identity._verifiable_addresses, identity._recovery_addresses = lists  # type: ignore[attr-defined]
    if not pending:
        return
    for address in reads.addresses_of(pending.keys()):
        verifiable, recovery = pending[address.identity_id]
        (verifiable if isinstance(address, VerifiableAddress) else recovery).append(address)
