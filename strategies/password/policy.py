"""Kratos's password policy: what a new password must pass before it is hashed and stored.

Mirrors Kratos v26.2.0 `selfservice/strategy/password/validator.go` (DefaultPasswordValidator)
as `registration.go`'s `validateCredentials` applies it, once per identifier, first failure wins:

1. at least `min_password_length` bytes (Go's `len`, so UTF-8 bytes, not characters) → 4000032;
2. with `identifier_similarity_check_enabled`, not too similar to the identifier: after lower-casing
   both, a Levenshtein distance under 5 or a longest common substring over half the password's
   bytes → 4000031;
3. with `haveibeenpwned_enabled`, found in breaches at most `max_breaches` times → 4000034.
   A lookup that fails on the network or with an unexpected status is skipped when
   `ignore_network_errors` is set; otherwise, as any malformed answer always does, it raises
   `UpstreamError`, a 502 envelope (herodot's ErrUpstreamError), not a flow message.

Then, as Kratos's bcrypt hasher refuses them when the hash is computed (hash/hasher_bcrypt.go),
passwords over 72 bytes → 4000033 while `hashers.algorithm` is bcrypt.

Product deviation: `haveibeenpwned_enabled` defaults to false here (Kratos: true), because its
default source, the HIBP range API, needs a network this product must work without
(kratos_project/config.py `_PRODUCT_DEFAULTS`). Turned on, the breach source is the range API at
`haveibeenpwned_host` (Kratos's behaviour; point it at a self-hosted mirror for an offline corpus),
or, when the Django setting BREACHED_PASSWORDS_FILE (env KRATOS_BREACHED_PASSWORDS_FILE) names one,
a local list of SHA-1 hashes.
"""
from __future__ import annotations

import functools
import hashlib
import http.client
import logging
import re
import ssl
import time
import urllib.error
import urllib.request
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from identities.hashing import BCRYPT_MAX_PASSWORD_BYTES
from kratos_project.config import Config, get_config
from kratos_project.errors import KratosError
from selfservice.text import ui_text

logger = logging.getLogger("kratos.password.policy")

_KEY = "selfservice.methods.password.config."

# validator.go's NewDefaultPasswordValidatorStrategy constants.
_MIN_IDENTIFIER_DISTANCE = 5
_MAX_COMMON_SUBSTRING_SHARE = 0.5

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# strconv.ParseInt(s, 10, 64) after Kratos strips the thousands separators.
_COUNT = re.compile(r"[+-]?[0-9]+")
_SHA1_HEX = re.compile(r"[0-9A-Fa-f]{40}")


@dataclass(frozen=True)
class PolicyViolation:
    """One rule the password breaks, as the uiText message Kratos shows on the password node."""

    id: int
    text: str
    context: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, message_id: int, **context: Any) -> PolicyViolation:
        message = ui_text(message_id, **context)
        return cls(message["id"], message["text"], message.get("context", {}))

    def as_ui_text(self) -> dict[str, Any]:
        message: dict[str, Any] = {"id": self.id, "text": self.text, "type": "error"}
        if self.context:
            message["context"] = dict(self.context)
        return message


class UpstreamError(KratosError):
    """herodot.ErrUpstreamError (herodot v0.10.8 error_defaults.go), which Kratos renders as is."""

    status = HTTPStatus.BAD_GATEWAY
    error_id = "upstream_error"
    message = "Upstream error"


class LeakedPasswordServerUnavailable(UpstreamError):
    """validator.go's ErrNetworkFailure / ErrUnexpectedStatusCode: the ones ignore_network_errors skips."""

    message = "Leaked password server unavailable"


_NETWORK_FAILURE = "Unable to check if password has been leaked because an unexpected network error occurred"
_UNEXPECTED_STATUS = "Unexpected status code from haveibeenpwned.com"


@dataclass(frozen=True, slots=True)
class PasswordPolicy:
    """Kratos's config.PasswordPolicy; defaults come from the config tree (schema + product)."""

    min_password_length: int
    identifier_similarity_check_enabled: bool
    haveibeenpwned_enabled: bool
    haveibeenpwned_host: str
    max_breaches: int
    ignore_network_errors: bool

    @classmethod
    def from_config(cls, config: Config) -> PasswordPolicy:
        return cls(**{name: config.get(_KEY + name) for name in cls.__dataclass_fields__})


def check_password(
    password: str, identifiers: Sequence[str], *, config: Config | None = None
) -> list[PolicyViolation]:
    """The policy's verdict on a new password for an identity with these identifiers: empty when
    acceptable, else the one violation Kratos reports. With no identifiers only the identifier
    check is skipped (Kratos's flows refuse that case before asking the policy).

    Raises UpstreamError when the breach lookup fails and Kratos would not ignore it, and
    ImproperlyConfigured when BREACHED_PASSWORDS_FILE cannot be read.
    """
    config = get_config() if config is None else config
    policy = PasswordPolicy.from_config(config)
    password = _go_string(password)
    violation = _validator_violation(password, [_go_string(i) for i in identifiers] or [""], policy)
    if violation is None and config.hashers.algorithm == "bcrypt":
        violation = _bcrypt_length_violation(password)
    return [violation] if violation else []


def _validator_violation(password: str, identifiers: list[str], policy: PasswordPolicy) -> PolicyViolation | None:
    length = len(password.encode())
    if length < policy.min_password_length:
        return PolicyViolation.of(4000032, min_length=policy.min_password_length, actual_length=length)
    # Kratos validates per identifier and caches lookups; one lookup per call is the same answer.
    breaches = functools.cache(lambda: _breach_count(password, policy))
    for identifier in identifiers:
        if policy.identifier_similarity_check_enabled and identifier and _too_similar(identifier, password):
            return PolicyViolation.of(4000031)
        if policy.haveibeenpwned_enabled and (count := breaches()) is not None and count > policy.max_breaches:
            return PolicyViolation.of(4000034, breaches=count)
    return None


def _bcrypt_length_violation(password: str) -> PolicyViolation | None:
    length = len(password.encode())
    if length > BCRYPT_MAX_PASSWORD_BYTES:
        return PolicyViolation.of(4000033, max_length=BCRYPT_MAX_PASSWORD_BYTES, actual_length=length)
    return None


def _go_string(value: str) -> str:
    # Go's JSON decoder turns unpaired UTF-16 surrogates into U+FFFD before Kratos sees a string.
    return _LONE_SURROGATE.sub("\ufffd", value)


# --- identifier similarity -----------------------------------------------------------------------

# Go's strings.ToLower maps rune by rune (simple case mapping); Python's lower() uses the full
# mapping, which differs only for U+0130 (Go: "i") and a word-final capital sigma (Go: "σ").
_GO_LOWER_EXCEPTIONS = {0x0130: "i", 0x03A3: "σ"}


def _too_similar(identifier: str, password: str) -> bool:
    identifier, password = _go_lower(identifier), _go_lower(password)
    if _levenshtein_below(identifier, password, _MIN_IDENTIFIER_DISTANCE):
        return True
    password_bytes = len(password.encode())
    # A common run never outgrows the shorter string, so long passwords skip the quadratic part.
    if min(len(identifier), len(password)) <= password_bytes * _MAX_COMMON_SUBSTRING_SHARE:
        return False
    return _lcs_length(identifier, password) > password_bytes * _MAX_COMMON_SUBSTRING_SHARE


def _go_lower(value: str) -> str:
    return value.translate(_GO_LOWER_EXCEPTIONS).lower()


def _levenshtein_below(a: str, b: str, limit: int) -> bool:
    """Whether arbovm/levenshtein's Distance (over runes) is under `limit`. A cell `limit` or more
    off the diagonal cannot be, so rows hold only the band, values capped at `limit`: O(len·limit)."""
    if abs(len(a) - len(b)) >= limit:
        return False
    previous = {j: j for j in range(min(len(b), limit - 1) + 1)}
    for i, char in enumerate(a, 1):
        current = {0: i} if i < limit else {}
        for j in range(max(1, i - limit + 1), min(len(b), i + limit - 1) + 1):
            substitution = previous.get(j - 1, limit) + (char != b[j - 1])
            current[j] = min(previous.get(j, limit) + 1, current.get(j - 1, limit) + 1, substitution, limit)
        previous = current
    return previous.get(len(b), limit) < limit


def _lcs_length(a: str, b: str) -> int:
    """validator.go's lcsLength, quirk included: Go ranges over runes but indexes its table by byte
    offset, so the cell "one rune back" is only found after a one-byte rune; a common run restarts
    after every multi-byte character."""
    offsets: dict[str, list[int]] = {}
    for offset, char in _runes(b):
        offsets.setdefault(char, []).append(offset)
    greatest, above, above_offset = 0, {}, -2
    for offset, char in _runes(a):
        diagonal = above if above_offset == offset - 1 else {}
        row = {j: diagonal.get(j - 1, 0) + 1 for j in offsets.get(char, ())}
        greatest = max(greatest, *row.values(), 0)
        above, above_offset = row, offset
    return greatest


def _runes(value: str) -> Iterator[tuple[int, str]]:
    offset = 0
    for char in value:
        yield offset, char
        offset += len(char.encode())


# --- breached passwords --------------------------------------------------------------------------


class BreachedPasswordSource(Protocol):
    def breach_count(self, sha1_hex: str) -> int:
        """How many times the password with this SHA-1 (40 upper-case hex digits) appears in
        breaches; 0 when never. Raises UpstreamError when the source cannot answer."""
        ...


def _breach_count(password: str, policy: PasswordPolicy) -> int | None:
    sha1_hex = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
    try:
        return breached_password_source(policy).breach_count(sha1_hex)
    except LeakedPasswordServerUnavailable as error:
        if not policy.ignore_network_errors:
            raise
        logger.warning("breached-password check skipped (ignore_network_errors): %s", error.reason)
        return None


def breached_password_source(policy: PasswordPolicy) -> BreachedPasswordSource:
    """The local list when BREACHED_PASSWORDS_FILE is set, else HIBP's range API."""
    if path := settings.BREACHED_PASSWORDS_FILE:
        return _local_list(path)
    return _range_api(policy.haveibeenpwned_host)


@functools.cache
def _local_list(path: str) -> BreachedPasswordList:
    return BreachedPasswordList(Path(path))


@functools.cache
def _range_api(host: str) -> PwnedPasswordsRangeApi:
    return PwnedPasswordsRangeApi(host)


class PwnedPasswordsRangeApi:
    """The Pwned Passwords range API with k-anonymity: only the first five hex digits of the SHA-1
    leave the process (`GET https://<host>/range/<prefix>`); the server answers with every known
    suffix under that prefix (`SUFFIX:COUNT` lines) and the match happens here.

    Requests are made as Kratos's resilient client makes them (oryx/httpx/resilient_client.go with
    go-retryablehttp's default policy): each attempt times out after `attempt_timeout` seconds;
    connection failures, 429 and 5xx other than 501 are retried up to `max_retries` times after
    `retry_wait_min` · 2ⁿ seconds (at most `retry_wait_max`); a certificate error is not retried.
    The server's certificate is verified against the system's CAs (or SSL_CERT_FILE) unless an
    `ssl_context` is given.
    """

    def __init__(
        self,
        host: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        attempt_timeout: float = 1.0,
        max_retries: int = 4,
        retry_wait_min: float = 1.0,
        retry_wait_max: float = 30.0,
    ) -> None:
        self.host = host
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=ssl_context or ssl.create_default_context())
        )
        self.attempt_timeout = attempt_timeout
        self.max_retries = max_retries
        self.retry_wait_min, self.retry_wait_max = retry_wait_min, retry_wait_max

    def breach_count(self, sha1_hex: str) -> int:
        prefix = sha1_hex[:5]
        return _count_in_range(prefix, self._get(f"https://{self.host}/range/{prefix}"), sha1_hex)

    def _get(self, url: str) -> str:
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(min(self.retry_wait_min * 2 ** (attempt - 1), self.retry_wait_max))
            try:
                with self._opener.open(url, timeout=self.attempt_timeout) as response:
                    if response.status != HTTPStatus.OK:
                        raise LeakedPasswordServerUnavailable(_UNEXPECTED_STATUS)
                    return response.read().decode("utf-8", "replace")
            except urllib.error.HTTPError as error:
                if not _is_retried_status(error.code):
                    raise LeakedPasswordServerUnavailable(_UNEXPECTED_STATUS) from error
                failure: Exception = error
            except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
                if isinstance(getattr(error, "reason", error), ssl.SSLCertVerificationError):
                    raise LeakedPasswordServerUnavailable(_NETWORK_FAILURE) from error
                failure = error
        # retryablehttp gives up with an error rather than the last response: a network failure.
        raise LeakedPasswordServerUnavailable(_NETWORK_FAILURE) from failure


def _is_retried_status(status: int) -> bool:
    return status == HTTPStatus.TOO_MANY_REQUESTS or (status >= 500 and status != HTTPStatus.NOT_IMPLEMENTED)


def _count_in_range(prefix: str, body: str, sha1_hex: str) -> int:
    """validator.go's fetch loop: every line is parsed, a bad count anywhere fails the lookup."""
    found = 0
    for row in body.split("\n"):
        parts = row.strip().split(":")
        # HIBP sometimes answers without the colon; Kratos then assumes one breach (ory/kratos#2145).
        count = _parse_count(parts[1]) if len(parts) == 2 else 1
        if count is None:
            raise UpstreamError(f"Expected password hash to contain a count formatted as int but got: {parts[1]}")
        if prefix + parts[0] == sha1_hex:
            found = count
    return found


def _parse_count(text: str) -> int | None:
    digits = text.replace(",", "")
    if not _COUNT.fullmatch(digits) or not -(2**63) <= (count := int(digits)) < 2**63:
        return None
    return count


class BreachedPasswordList:
    """A local breach list: one SHA-1 per line in hex (either case), optionally `:COUNT` (the
    format of HIBP's downloadable corpus); a line without a count counts one breach, as Kratos
    reads the range API. Read once, into a sorted array of 20-byte digests (24 bytes an entry
    with its count), searched by bisection. For the full corpus, run a range API mirror instead.
    """

    def __init__(self, path: Path) -> None:
        counts: dict[bytes, int] = {}
        for digest, count in self._read(path):
            counts[digest] = max(count, counts.get(digest, 0))
        ordered = sorted(counts.items())
        self._digests = b"".join(digest for digest, _ in ordered)
        self._counts = array("q", (count for _, count in ordered))

    @staticmethod
    def _read(path: Path) -> Iterable[tuple[bytes, int]]:
        try:
            with path.open(encoding="ascii", errors="replace") as lines:
                yield from (_list_entry(path, number, line) for number, line in enumerate(lines, 1) if line.strip())
        except OSError as error:
            raise ImproperlyConfigured(f"BREACHED_PASSWORDS_FILE {path}: {error.strerror or error}") from error

    def breach_count(self, sha1_hex: str) -> int:
        target = bytes.fromhex(sha1_hex)
        low, high = 0, len(self._counts)
        while low < high:
            middle = (low + high) // 2
            if self._digests[middle * 20:middle * 20 + 20] < target:
                low = middle + 1
            else:
                high = middle
        if low < len(self._counts) and self._digests[low * 20:low * 20 + 20] == target:
            return self._counts[low]
        return 0


def _list_entry(path: Path, number: int, line: str) -> tuple[bytes, int]:
    sha1_hex, colon, count_text = line.strip().partition(":")
    count = _parse_count(count_text) if colon else 1
    if not _SHA1_HEX.fullmatch(sha1_hex) or count is None:
        raise ImproperlyConfigured(
            f"BREACHED_PASSWORDS_FILE {path}, line {number}: expected a SHA-1 in hex, optionally :COUNT"
        )
    return bytes.fromhex(sha1_hex), count
