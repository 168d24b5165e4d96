"""Kratos's password policy (selfservice/strategy/password/validator.go and its tests), against a
real Pwned Passwords range API served over TLS on 127.0.0.1 and real local breach lists."""
from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import random
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.exceptions import ImproperlyConfigured

from kratos_project.config import Config, load_config
from strategies.password.policy import (
    LeakedPasswordServerUnavailable,
    PasswordPolicy,
    PolicyViolation,
    PwnedPasswordsRangeApi,
    UpstreamError,
    _lcs_length,
    _levenshtein_below,
    check_password,
)

TEST_CONFIG = Path(__file__).resolve().parent.parent / "kratos.test.yml"
ENABLE_HIBP = {"SELFSERVICE_METHODS_PASSWORD_CONFIG_HAVEIBEENPWNED_ENABLED": "true"}


def config(**env: str) -> Config:
    return load_config(str(TEST_CONFIG), env)


def sha1(password: str) -> str:
    return hashlib.sha1(password.encode()).hexdigest().upper()


def ids(violations: list[PolicyViolation]) -> list[int]:
    return [violation.id for violation in violations]


# --- length and identifier similarity --------------------------------------------------------------


@pytest.mark.parametrize(
    ("identifier", "password", "expected"),
    [
        # validator_test.go "default strategy", minus the cases that need the live HIBP API.
        ("", "l3f9toh1uaf81n21", []),
        ("l3f9toh1uaf81n21", "l3f9toh1uaf81n21", [4000031]),
        ("", "l3f9toh1", []),
        ("", "0" * 600, []),
        ("hello@example.com", "hello@example.com12345", [4000031]),
        ("hello@example.com", "123hello@example.com123", [4000031]),
        ("hello@example.com", "hello@exam", [4000031]),
        ("hello@example.com", "HELLO@EXAMPLE.COM", [4000031]),
        ("hello@example.com", "HELLO@example.com", [4000031]),
        ("hello@exam", "hello@example.com", [4000031]),
        ("hello@example.com", "h3ll0@example", [4000031]),
        ("abcd", "9d3c8a1b", []),
        ("a", "kjOklafe", []),
        ("ab", "0000ab0000123", []),
        ("d4f6090b-5a84", "d4f6090b-5a84-2184-4404-8d1b-8da3eb00ebbe", []),
        ("asdflasdflasdf", "asdflasdflpiuhefnciluaksdzuföfhg", []),
    ],
)
def test_kratos_validator_table(identifier: str, password: str, expected: list[int]) -> None:
    argon2 = config(HASHERS_ALGORITHM="argon2")  # Kratos's validator alone: no bcrypt 72-byte limit
    assert ids(check_password(password, [identifier], config=argon2)) == expected


@pytest.mark.parametrize(("password", "length"), [("", 0), ("12", 2), ("1234", 4), ("123456", 6), ("l3f9to", 6)])
def test_short_password_reports_kratos_message_with_lengths(password: str, length: int) -> None:
    [violation] = check_password(password, ["someone@example.org"], config=config())

    assert violation.as_ui_text() == {
        "id": 4000032,
        "text": f"The password must be at least 8 characters long, but got {length}.",
        "type": "error",
        "context": {"min_length": 8, "actual_length": length},
    }


def test_length_is_counted_in_utf8_bytes_as_go_len_does() -> None:
    [violation] = check_password("äöü", [], config=config())
    assert violation.context == {"min_length": 8, "actual_length": 6}
    assert check_password("äöüß", [], config=config()) == []  # four characters, eight bytes


def test_minimum_length_comes_from_config() -> None:
    # validator_test.go TestChangeMinPasswordLength
    ten = config(SELFSERVICE_METHODS_PASSWORD_CONFIG_MIN_PASSWORD_LENGTH="10")
    assert check_password("kuobahcaas", [], config=ten) == []
    assert [v.context for v in check_password("rfqyfjied", [], config=ten)] == [{"min_length": 10, "actual_length": 9}]


def test_similarity_check_can_be_disabled() -> None:
    # validator_test.go TestChangeIdentifierSimilarityCheckEnabled
    off = config(SELFSERVICE_METHODS_PASSWORD_CONFIG_IDENTIFIER_SIMILARITY_CHECK_ENABLED="false")
    assert check_password("bosqwfaxee", ["bosqwfaxee"], config=off) == []
    [violation] = check_password("bosqwfaxee", ["bosqwfaxee"], config=config())
    assert violation.as_ui_text() == {
        "id": 4000031,
        "text": "The password can not be used because it is too similar to the identifier.",
        "type": "error",
    }


def test_common_substring_restarts_after_a_multibyte_character_as_in_kratos() -> None:
    # Kratos's lcsLength indexes by byte offset: after "ä" the run "bcdefgh" starts again at 1, so
    # 7 of 14 bytes is not over half. The ASCII twin shares 8 of 13 bytes and is refused.
    assert check_password("äbcdefgh12345", ["äbcdefgh"], config=config()) == []
    assert ids(check_password("abcdefgh12345", ["abcdefgh"], config=config())) == [4000031]


def test_lower_casing_is_gos_rune_by_rune_mapping() -> None:
    # Go lower-cases "İ" to "i" (Python's full mapping gives "i̇"), so all of "istanbul" is shared.
    assert ids(check_password("İSTANBUL12345", ["istanbul"], config=config())) == [4000031]


def test_every_identifier_is_checked_and_the_first_violation_wins() -> None:
    password = "l3f9toh1uaf81n21"
    assert ids(check_password(password, ["someone@example.org", password], config=config())) == [4000031]
    assert check_password("l3f9toh1uaf81n21", ["someone@example.org", "other@example.org"], config=config()) == []


def _levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, other in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
        previous = current
    return previous[-1]


def _go_lcs_length(a: str, b: str) -> int:
    """validator.go's lcsLength transcribed: `range` yields byte offsets, the table is flat."""
    width, lengths, greatest = len(b.encode()), [0] * (len(a.encode()) * len(b.encode())), 0
    byte_offsets = lambda s: [len(s[:k].encode()) for k in range(len(s))]  # noqa: E731
    for i, x in zip(byte_offsets(a), a):
        for j, y in zip(byte_offsets(b), b):
            if x == y:
                current = lengths[(i - 1) * width + j - 1] + 1 if i and j else 1
                greatest, lengths[i * width + j] = max(greatest, current), current
    return greatest


def test_similarity_measures_match_kratos_on_random_strings() -> None:
    generator = random.Random(7)
    for _ in range(3000):
        a, b = ("".join(generator.choices("abé€😀", k=generator.randint(0, 9))) for _ in range(2))
        assert _levenshtein_below(a, b, 5) == (_levenshtein(a, b) < 5), (a, b)
        assert _lcs_length(a, b) == _go_lcs_length(a, b), (a, b)


# --- bcrypt's 72 bytes -----------------------------------------------------------------------------


def test_bcrypt_refuses_passwords_over_72_bytes() -> None:
    bcrypt = config()  # the test configuration hashes with bcrypt
    assert check_password("x1" * 36, [], config=bcrypt) == []
    [violation] = check_password("x1" * 36 + "é", [], config=bcrypt)
    assert violation.as_ui_text() == {
        "id": 4000033,
        "text": "The password must be at most 72 characters long, but got 74.",
        "type": "error",
        "context": {"max_length": 72, "actual_length": 74},
    }
    assert check_password("x1" * 40, [], config=config(HASHERS_ALGORITHM="argon2")) == []


def test_validator_violations_come_before_bcrypts_length() -> None:
    # Kratos validates before it waits for the hash, whose error comes second.
    long_and_similar = "someone@example.org" * 4
    assert ids(check_password(long_and_similar, [long_and_similar[:-2]], config=config())) == [4000031]


# --- breached passwords: the local list ------------------------------------------------------------


@pytest.fixture
def breach_list(tmp_path: Path, settings: Any) -> Path:
    path = tmp_path / "breached.txt"
    path.write_text(
        f"{sha1('12345678').lower()}\n"  # no count: one breach, as Kratos reads HIBP without a colon
        f"{sha1('password')}:10,000\n"
        f"\n{sha1('qwertyui')}:3\n"
    )
    settings.BREACHED_PASSWORDS_FILE = str(path)
    return path


def test_breach_check_is_off_by_default_in_this_product(breach_list: Path) -> None:
    assert PasswordPolicy.from_config(config()).haveibeenpwned_enabled is False
    assert check_password("password", ["someone@example.org"], config=config()) == []


def test_breached_password_is_refused_with_the_count(breach_list: Path) -> None:
    [violation] = check_password("password", ["someone@example.org"], config=config(**ENABLE_HIBP))

    assert violation.as_ui_text() == {
        "id": 4000034,
        "text": "The password has been found in data breaches and must no longer be used.",
        "type": "error",
        "context": {"breaches": 10000},
    }
    assert ids(check_password("12345678", [], config=config(**ENABLE_HIBP))) == [4000034]
    assert check_password("l3f9toh1uaf81n21", [], config=config(**ENABLE_HIBP)) == []


def test_max_breaches_is_the_count_still_allowed(breach_list: Path) -> None:
    three = config(**ENABLE_HIBP, SELFSERVICE_METHODS_PASSWORD_CONFIG_MAX_BREACHES="3")
    assert check_password("qwertyui", [], config=three) == []
    assert check_password("12345678", [], config=three) == []
    assert [v.context for v in check_password("password", [], config=three)] == [{"breaches": 10000}]


def test_breach_is_checked_before_a_later_identifiers_similarity(breach_list: Path) -> None:
    # Kratos runs the whole validator per identifier: identifier one's breach check comes first.
    identifiers = ["someone@example.org", "qwertyui"]
    assert ids(check_password("qwertyui", identifiers, config=config(**ENABLE_HIBP))) == [4000034]


def test_unreadable_breach_list_is_a_configuration_error(tmp_path: Path, settings: Any) -> None:
    settings.BREACHED_PASSWORDS_FILE = str(tmp_path / "missing.txt")
    with pytest.raises(ImproperlyConfigured, match="missing.txt"):
        check_password("l3f9toh1uaf81n21", [], config=config(**ENABLE_HIBP))

    malformed = tmp_path / "malformed.txt"
    malformed.write_text(f"{sha1('a')}\nnot-a-hash\n")
    settings.BREACHED_PASSWORDS_FILE = str(malformed)
    with pytest.raises(ImproperlyConfigured, match="line 2"):
        check_password("l3f9toh1uaf81n21", [], config=config(**ENABLE_HIBP))


# --- breached passwords: the range API -------------------------------------------------------------


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    """A CA and a server certificate for 127.0.0.1; returns the CA file and the server context."""
    directory = tmp_path_factory.mktemp("tls")
    now = dt.datetime.now(dt.UTC)
    ca_key, server_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "policy test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(server_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, chain_file, key_file = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain_file, key_file)
    return ca_file, context


class RangeApi(ThreadingHTTPServer):
    """The Pwned Passwords range API over TLS: `ranges` maps a prefix to its body; queued
    `statuses` answer the next requests first; `requests` records what clients sent."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _RangeApiHandler)
        self.context = context
        self.ranges: dict[str, str] = {}
        self.statuses: list[int] = []
        self.delay = 0.0
        self.requests: list[str] = []
        self.connections = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    def get_request(self) -> tuple[socket.socket, Any]:
        connection, address = self.socket.accept()
        self.connections += 1
        return self.context.wrap_socket(connection, server_side=True), address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that gave up (timeouts) are part of the tests, not errors."""


class _RangeApiHandler(BaseHTTPRequestHandler):
    server: RangeApi

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        api = self.server
        api.requests.append(f"{self.requestline}\n{self.headers}")
        time.sleep(api.delay)
        status = api.statuses.pop(0) if api.statuses else 200
        body = api.ranges.get(self.path.removeprefix("/range/"), "").encode() if status == 200 else b""
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's signature)
        pass


@pytest.fixture
def range_api(tls: tuple[Path, ssl.SSLContext]) -> Iterator[RangeApi]:
    api = RangeApi(tls[1])
    thread = threading.Thread(target=api.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield api
    api.shutdown()
    api.server_close()
    thread.join()


@pytest.fixture
def trusted_tls(tls: tuple[Path, ssl.SSLContext], monkeypatch: pytest.MonkeyPatch) -> None:
    """The test CA as the process's CA bundle, as an operator of a private mirror would set it."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tls[0]))


def client(api: RangeApi, tls: tuple[Path, ssl.SSLContext], **options: Any) -> PwnedPasswordsRangeApi:
    return PwnedPasswordsRangeApi(api.host, ssl_context=ssl.create_default_context(cafile=tls[0]), **options)


def hibp_config(api: RangeApi, **env: str) -> Config:
    return config(**ENABLE_HIBP, SELFSERVICE_METHODS_PASSWORD_CONFIG_HAVEIBEENPWNED_HOST=api.host, **env)


@pytest.mark.usefixtures("trusted_tls")
def test_range_api_from_config_refuses_a_breached_password(range_api: RangeApi) -> None:
    password = "correct horse battery staple"
    digest = sha1(password)
    range_api.ranges[digest[:5]] = f"{sha1('other')[5:]}:99\r\n{digest[5:]}:3\r\n"

    [violation] = check_password(password, ["someone@example.org"], config=hibp_config(range_api))

    assert (violation.id, violation.context) == (4000034, {"breaches": 3})
    [request] = range_api.requests
    assert request.startswith(f"GET /range/{digest[:5]} HTTP/1.1\n")
    # k-anonymity: neither the password nor any more of its hash than the prefix leaves the process.
    assert password not in request and digest[5:] not in request and digest[5:].lower() not in request


@pytest.mark.usefixtures("trusted_tls")
def test_range_api_is_not_asked_when_the_check_is_off(range_api: RangeApi) -> None:
    # validator_test.go TestDisableHaveIBeenPwnedValidationHost
    off = config(SELFSERVICE_METHODS_PASSWORD_CONFIG_HAVEIBEENPWNED_HOST=range_api.host)
    assert check_password("damrumukuh", ["mohutdesub"], config=off) == []
    assert range_api.requests == []


@pytest.mark.usefixtures("trusted_tls")
def test_unexpected_status_is_ignored_or_a_502_per_ignore_network_errors(range_api: RangeApi) -> None:
    range_api.statuses = [403]
    assert check_password("jolhakowef", [], config=hibp_config(range_api)) == []

    range_api.statuses = [403]
    strict = hibp_config(range_api, SELFSERVICE_METHODS_PASSWORD_CONFIG_IGNORE_NETWORK_ERRORS="false")
    with pytest.raises(LeakedPasswordServerUnavailable) as raised:
        check_password("jolhakowef", [], config=strict)
    assert raised.value.body() == {"error": {
        "id": "upstream_error", "code": 502, "status": "Bad Gateway",
        "reason": "Unexpected status code from haveibeenpwned.com",
        "message": "Leaked password server unavailable",
    }}
    assert len(range_api.requests) == 2  # 4xx is not retried


@pytest.mark.usefixtures("trusted_tls")
def test_malformed_count_fails_even_when_network_errors_are_ignored(range_api: RangeApi) -> None:
    password = "pepegtawni1"
    range_api.ranges[sha1(password)[:5]] = f"{sha1('x')[5:]}:text\n{sha1(password)[5:]}:2\n"

    with pytest.raises(UpstreamError) as raised:
        check_password(password, [], config=hibp_config(range_api))

    assert not isinstance(raised.value, LeakedPasswordServerUnavailable)
    assert raised.value.body() == {"error": {
        "id": "upstream_error", "code": 502, "status": "Bad Gateway",
        "reason": "Expected password hash to contain a count formatted as int but got: text",
        "message": "Upstream error",
    }}


@pytest.mark.parametrize(
    ("body", "count"),
    [
        ("{suffix}:2\ninvalid", 2),  # a line that is no hash is skipped
        ("{suffix}", 1),  # no colon: one breach (ory/kratos#2145)
        ("{suffix}\n{other}:2", 1),
        ("{other}:57", 0),
        ("{suffix}:5\n{other}:0,6", 5),  # thousands separators are dropped
        ("{suffix}:1,234\n", 1234),
    ],
)
def test_range_lines_are_read_as_kratos_reads_them(
    range_api: RangeApi, tls: tuple[Path, ssl.SSLContext], body: str, count: int
) -> None:
    digest = sha1("sumdarmetp")
    range_api.ranges[digest[:5]] = body.format(suffix=digest[5:], other=sha1("other")[5:])
    assert client(range_api, tls).breach_count(digest) == count


def test_server_errors_are_retried_then_reported_as_a_network_failure(
    range_api: RangeApi, tls: tuple[Path, ssl.SSLContext]
) -> None:
    digest = sha1("jenuzuhjoj")
    range_api.ranges[digest[:5]] = f"{digest[5:]}:4"
    api = client(range_api, tls, max_retries=2, retry_wait_min=0.001)

    range_api.statuses = [503, 429]
    assert api.breach_count(digest) == 4
    assert len(range_api.requests) == 3

    range_api.statuses = [500, 502, 503]
    with pytest.raises(LeakedPasswordServerUnavailable) as raised:
        api.breach_count(digest)
    assert raised.value.reason == (
        "Unable to check if password has been leaked because an unexpected network error occurred"
    )
    assert len(range_api.requests) == 6


def test_an_attempt_that_takes_too_long_is_a_network_failure(
    range_api: RangeApi, tls: tuple[Path, ssl.SSLContext]
) -> None:
    range_api.delay = 1.0
    with pytest.raises(LeakedPasswordServerUnavailable, match="network error"):
        client(range_api, tls, attempt_timeout=0.1, max_retries=0).breach_count(sha1("slow"))


def test_unreachable_server_is_a_network_failure(tls: tuple[Path, ssl.SSLContext]) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        host = f"127.0.0.1:{closed.getsockname()[1]}"
    api = PwnedPasswordsRangeApi(host, max_retries=1, retry_wait_min=0.001)
    with pytest.raises(LeakedPasswordServerUnavailable, match="network error"):
        api.breach_count(sha1("unreachable"))


def test_untrusted_certificate_is_not_retried(range_api: RangeApi) -> None:
    api = PwnedPasswordsRangeApi(range_api.host, max_retries=3, retry_wait_min=0.001)  # system CAs only
    with pytest.raises(LeakedPasswordServerUnavailable, match="network error"):
        api.breach_count(sha1("untrusted"))
    assert (range_api.connections, range_api.requests) == (1, [])
