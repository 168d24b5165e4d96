"""One-time codes and link tokens of the recovery and verification flows (Kratos `selfservice/strategy/code`,
`selfservice/strategy/link`, `persistence/sql/persister_code.go`).

A code is 6 decimal digits, a link token 32 letters and digits, both from the OS CSPRNG. Only their
HMAC-SHA-512/256 (hex) keyed with the first `secrets.cookie` (falling back to `secrets.default`) is
stored; a submission is compared with every stored candidate of its flow under every configured
secret, in constant time, so rotating the secret does not invalidate codes already sent.

Every code submission first counts against the flow's `submit_count` (a separate, atomic UPDATE);
past `selfservice.methods.code.config.max_submissions` nothing is compared at all, which stops a
brute force of the 10^6 codes. A code is used once: marking it used is a conditional UPDATE, so two
concurrent submissions of one code cannot both succeed.
"""
from __future__ import annotations

import hmac
import secrets
import string
from datetime import datetime, timedelta

from django.db.models import F

from identities.models import Identity, RecoveryAddress, VerifiableAddress
from kratos_project import clock
from kratos_project.config import get_config, parse_duration
from kratos_project.errors import BadRequest
from selfservice.models import CodePurpose, OneTimeCode, RecoveryFlow, VerificationFlow
from selfservice.text import ui_text
from selfservice.ui import Message

CODE_LENGTH = 6
TOKEN_LENGTH = 32
_TOKEN_ALPHABET = string.ascii_letters + string.digits
_LINK_PURPOSES = frozenset({CodePurpose.RECOVERY_LINK, CodePurpose.VERIFICATION_LINK})


class CodeNotFound(Exception):
    """No code of the flow matches (wrong, or deleted by a resend)."""


class CodeExpired(Exception):
    def __init__(self, expired_at: datetime) -> None:
        super().__init__(f"the code expired at {expired_at.isoformat()}")
        self.expired_at = expired_at

    def flow_expired_text(self, message_id: int) -> Message:
        """Kratos treats an expired code or link as an expired flow: "The … flow expired N minutes ago"."""
        return ui_text(message_id, expired_at=self.expired_at, expired_at_unix=int(self.expired_at.timestamp()))


class CodeAlreadyUsed(BadRequest):
    def __init__(self) -> None:
        super().__init__("The code was already used. Please request another code.")


class CodeSubmittedTooOften(BadRequest):
    def __init__(self) -> None:
        super().__init__("The request was submitted too often. Please request another code.")


def lifespan(method: str) -> timedelta:
    """`selfservice.methods.<code|link>.config.lifespan` (default 1h): how long a code or link is valid."""
    return parse_duration(str(get_config().get(f"selfservice.methods.{method}.config.lifespan") or "1h"))


def _digest(value: str, secret: str) -> str:
    return hmac.new(secret.encode(), value.encode(), "sha512_256").hexdigest()


def _secrets() -> tuple[str, ...]:
    return get_config().secrets_cookie  # the first signs, all verify; falls back to secrets.default


def issue(purpose: str, flow_id: object, identity: Identity, *, expires_in: timedelta,
          verifiable_address: VerifiableAddress | None = None, recovery_address: RecoveryAddress | None = None,
          issued_by_admin: bool = False) -> str:
    """Store a new code (or link token, by `purpose`) for the flow; returns it in clear, once."""
    if purpose in _LINK_PURPOSES:
        value = "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
    else:
        value = "".join(secrets.choice(string.digits) for _ in range(CODE_LENGTH))
    OneTimeCode.objects.create(
        purpose=purpose, flow_id=flow_id, code_hmac=_digest(value, _secrets()[0]), identity=identity,
        verifiable_address=verifiable_address, recovery_address=recovery_address, issued_by_admin=issued_by_admin,
        expires_at=clock.now() + expires_in,
    )
    return value


def delete_flow_codes(purpose: str, flow_id: object) -> None:
    """A resend invalidates what the flow sent before (Kratos DeleteRecoveryCodesOfFlow)."""
    OneTimeCode.objects.filter(purpose=purpose, flow_id=flow_id).delete()


def use_code(purpose: str, flow: RecoveryFlow | VerificationFlow, submitted: str) -> OneTimeCode:
    """Consume the flow's code `submitted`, counting the attempt first.

    Raises CodeSubmittedTooOften (the attempt limit), CodeNotFound, CodeExpired or CodeAlreadyUsed.
    """
    type(flow).objects.filter(id=flow.id).update(submit_count=F("submit_count") + 1)
    flow.submit_count = type(flow).objects.values_list("submit_count", flat=True).get(id=flow.id)
    if flow.submit_count > int(get_config().get("selfservice.methods.code.config.max_submissions") or 5):
        raise CodeSubmittedTooOften()
    return _consume(purpose, flow.id, submitted)


def use_token(purpose: str, flow_id: object, submitted: str) -> OneTimeCode:
    """Consume a link token; links carry 32 random characters, so no attempt limit applies (as in Kratos)."""
    return _consume(purpose, flow_id, submitted)


def _consume(purpose: str, flow_id: object, submitted: str) -> OneTimeCode:
    candidates = list(OneTimeCode.objects.filter(purpose=purpose, flow_id=flow_id)
                      .select_related("identity", "verifiable_address", "recovery_address"))
    match = _matching(candidates, submitted)
    if match is None:
        raise CodeNotFound()
    now = clock.now()
    if match.expires_at <= now:
        raise CodeExpired(match.expires_at)
    # Conditional on `used_at IS NULL`: of two concurrent submissions of one code, one wins.
    if not OneTimeCode.objects.filter(id=match.id, used_at__isnull=True).update(used_at=now, updated_at=now):
        raise CodeAlreadyUsed()
    match.used_at = now
    return match


def _matching(candidates: list[OneTimeCode], submitted: str) -> OneTimeCode | None:
    """The candidate whose HMAC equals the submission's under some secret; every pair is compared, in
    constant time, so the time taken says nothing about which candidate (if any) matched."""
    found = None
    for secret in _secrets():
        digest = _digest(submitted, secret).encode()
        for candidate in candidates:
            if hmac.compare_digest(candidate.code_hmac.encode(), digest):
                found = found or candidate
    return found
