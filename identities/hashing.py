"""Password hashing compatible with Ory Kratos (``hash/`` package).

New passwords are hashed with bcrypt or argon2id, exactly as Kratos emits
them.  Verification understands every format Kratos accepts through the
identity import API (``hash/hash_comparator.go``), so imported users can log
in and be re-hashed with the configured algorithm afterwards
(:func:`needs_rehash`).

Each format is one small verifier registered in ``_VERIFIERS`` together with
the prefix regex Kratos uses to recognise it.  Verifiers may raise on
malformed input; :func:`verify_password` turns every such error into
``False`` so a bad stored hash can never break a login request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass

import bcrypt
from argon2.exceptions import HashingError
from argon2.low_level import Type, hash_secret_raw
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "Argon2Params",
    "HasherParams",
    "PasswordTooLong",
    "UnknownHashFormat",
    "hash_password",
    "is_supported_hash",
    "needs_rehash",
    "verify_password",
]


# --------------------------------------------------------------------------
# Public configuration and errors
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Argon2Params:
    memory_kib: int = 131072  # Kratos "128MB"
    iterations: int = 1
    parallelism: int = 4
    salt_length: int = 16
    key_length: int = 32


@dataclass(frozen=True, slots=True)
class HasherParams:
    algorithm: str = "argon2"  # "argon2" | "bcrypt"
    bcrypt_cost: int = 12
    argon2: Argon2Params = Argon2Params()


class UnknownHashFormat(ValueError):
    """The hashed password matches none of the formats Kratos can import."""


class PasswordTooLong(ValueError):
    """bcrypt only looks at 72 bytes; Kratos refuses longer passwords."""


# --------------------------------------------------------------------------
# Limits
# --------------------------------------------------------------------------

BCRYPT_MAX_PASSWORD_BYTES = 72

# Imported hashes carry attacker-chosen cost parameters.  These bounds are the
# ones later Kratos releases added (hash/hash_limits.go) so that a hostile
# import cannot exhaust memory or CPU at login time; anything beyond them is
# treated as a non-matching hash.
_MAX_BCRYPT_COST = 15
_MAX_ARGON2_MEMORY_KIB = 1 << 20
_MAX_ARGON2_ITERATIONS = 10
_MAX_ARGON2_PARALLELISM = 16
_MAX_PBKDF2_ITERATIONS = 10_000_000
_MAX_SCRYPT_N = 1 << 17
_MAX_FIREBASE_SCRYPT_LOG_N = 17
_MAX_SCRYPT_R = 8
_MAX_SCRYPT_P = 10
# Not bounded by Kratos, but SHA-crypt runs in pure Python here: cap the
# rounds so one stored hash cannot pin a worker for minutes.
_MAX_SHA_CRYPT_ROUNDS = 10_000_000


# --------------------------------------------------------------------------
# Small shared helpers
# --------------------------------------------------------------------------

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _utf8(password: str) -> bytes:
    # Go's JSON decoder turns unpaired UTF-16 surrogates into U+FFFD before
    # Kratos sees the password; do the same instead of failing to encode.
    return _LONE_SURROGATE.sub("\ufffd", password).encode("utf-8")


def _equal(expected: bytes, actual: bytes) -> bool:
    # An empty stored digest would "match" an empty computation (Go's
    # ConstantTimeCompare says so); no real hash is empty, so refuse it.
    return bool(expected) and hmac.compare_digest(expected, actual)


def _b64decode(text: str) -> bytes:
    """Go's ``base64.StdEncoding.Strict()``: padded and canonical."""
    data = base64.b64decode(text, validate=True)
    # Strict mode also rejects non-zero trailing bits; re-encoding reveals them.
    if base64.b64encode(data).decode("ascii") != text:
        raise ValueError("non-canonical base64")
    return data


def _b64decode_raw(text: str) -> bytes:
    """Go's ``base64.RawStdEncoding.Strict()``: unpadded and canonical."""
    if "=" in text:
        raise ValueError("raw base64 must not be padded")
    return _b64decode(text + "=" * (-len(text) % 4))


def _b64encode_raw(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


_TEMPLATE_FIELD = re.compile(rb"\{SALT\}|\{PASSWORD\}")


def _apply_template(template: bytes, salt: bytes, password: bytes) -> bytes:
    # Kratos uses strings.NewReplacer: one left-to-right pass, so a password
    # that itself contains "{SALT}" is not expanded again.
    values = {b"{SALT}": salt, b"{PASSWORD}": password}
    return _TEMPLATE_FIELD.sub(lambda m: values[m.group(0)], template)


def _parse_template_field(text: str) -> bytes:
    # "pf=<b64 template>"; an empty template is an error in Kratos (Sscanf %s).
    if not text.startswith("pf=") or len(text) == 3:
        raise ValueError("missing pf= template")
    return _b64decode(text[3:])


# --------------------------------------------------------------------------
# MD4 (needed for hmac-md4; OpenSSL 3 no longer ships it by default)
# --------------------------------------------------------------------------


class _MD4:
    """Minimal RFC 1320 MD4 with the hashlib interface ``hmac`` relies on."""

    digest_size = 16
    block_size = 64
    name = "md4"

    def __init__(self, data: bytes = b"") -> None:
        self._state = (0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476)
        self._buffer = b""
        self._length = 0
        self.update(data)

    def update(self, data: bytes) -> None:
        self._length += len(data)
        self._buffer += data
        while len(self._buffer) >= 64:
            self._state = _md4_compress(self._state, self._buffer[:64])
            self._buffer = self._buffer[64:]

    def copy(self) -> _MD4:
        clone = _MD4()
        clone._state, clone._buffer, clone._length = self._state, self._buffer, self._length
        return clone

    def digest(self) -> bytes:
        bit_length = (self._length * 8) & 0xFFFFFFFFFFFFFFFF
        tail = self._buffer + b"\x80" + b"\x00" * ((55 - self._length) % 64)
        tail += struct.pack("<Q", bit_length)
        state = self._state
        for offset in range(0, len(tail), 64):
            state = _md4_compress(state, tail[offset : offset + 64])
        return struct.pack("<4I", *state)

    def hexdigest(self) -> str:
        return self.digest().hex()


def _md4_compress(state: tuple[int, int, int, int], block: bytes) -> tuple[int, int, int, int]:
    x = struct.unpack("<16I", block)
    a, b, c, d = state

    def rotl(value: int, shift: int) -> int:
        value &= 0xFFFFFFFF
        return ((value << shift) | (value >> (32 - shift))) & 0xFFFFFFFF

    # Round 1: F(x,y,z) = (x & y) | (~x & z)
    for i in range(16):
        k, s = i, (3, 7, 11, 19)[i % 4]
        a = rotl(a + ((b & c) | (~b & d)) + x[k], s)
        a, b, c, d = d, a, b, c
    # Round 2: G(x,y,z) = majority, constant sqrt(2)
    for i in range(16):
        k, s = (i % 4) * 4 + i // 4, (3, 5, 9, 13)[i % 4]
        a = rotl(a + ((b & c) | (b & d) | (c & d)) + x[k] + 0x5A827999, s)
        a, b, c, d = d, a, b, c
    # Round 3: H(x,y,z) = parity, constant sqrt(3)
    for i in range(16):
        k, s = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)[i], (3, 9, 11, 15)[i % 4]
        a = rotl(a + (b ^ c ^ d) + x[k] + 0x6ED9EBA1, s)
        a, b, c, d = d, a, b, c
    return tuple((old + new) & 0xFFFFFFFF for old, new in zip(state, (a, b, c, d)))  # type: ignore[return-value]


def _md4_factory() -> Callable[..., object]:
    try:
        hashlib.new("md4")
    except ValueError:
        return _MD4
    return lambda data=b"": hashlib.new("md4", data)


# --------------------------------------------------------------------------
# crypt(3): MD5-crypt and SHA-crypt, in pure Python (the stdlib ``crypt``
# module is deprecated and platform dependent).
# --------------------------------------------------------------------------

_CRYPT_ALPHABET = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Byte groups (most significant first) in the order crypt(3) prints them;
# taken from the MD5-crypt source and Drepper's SHA-crypt specification.
_MD5_CRYPT_ORDER = ((0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5), (11,))
_SHA256_CRYPT_ORDER = (
    (0, 10, 20), (21, 1, 11), (12, 22, 2), (3, 13, 23), (24, 4, 14),
    (15, 25, 5), (6, 16, 26), (27, 7, 17), (18, 28, 8), (9, 19, 29), (31, 30),
)  # fmt: skip
_SHA512_CRYPT_ORDER = (
    (0, 21, 42), (22, 43, 1), (44, 2, 23), (3, 24, 45), (25, 46, 4),
    (47, 5, 26), (6, 27, 48), (28, 49, 7), (50, 8, 29), (9, 30, 51),
    (31, 52, 10), (53, 11, 32), (12, 33, 54), (34, 55, 13), (56, 14, 35),
    (15, 36, 57), (37, 58, 16), (59, 17, 38), (18, 39, 60), (40, 61, 19),
    (62, 20, 41), (63,),
)  # fmt: skip


def _crypt_b64(digest: bytes, order: tuple[tuple[int, ...], ...]) -> str:
    chars = []
    for group in order:
        value = 0
        for index in group:
            value = (value << 8) | digest[index]
        for _ in range(len(group) + 1):
            chars.append(_CRYPT_ALPHABET[value & 0x3F])
            value >>= 6
    return "".join(chars)


def _repeat(block: bytes, length: int) -> bytes:
    return (block * (length // len(block) + 1))[:length]


def _md5_crypt(password: bytes, salt: bytes) -> str:
    alternate = hashlib.md5(password + salt + password).digest()
    ctx = hashlib.md5(password + b"$1$" + salt + _repeat(alternate, len(password)))
    bits = len(password)
    while bits:
        ctx.update(b"\x00" if bits & 1 else password[:1])
        bits >>= 1
    result = ctx.digest()
    for i in range(1000):
        ctx = hashlib.md5(password if i & 1 else result)
        if i % 3:
            ctx.update(salt)
        if i % 7:
            ctx.update(password)
        ctx.update(result if i & 1 else password)
        result = ctx.digest()
    return _crypt_b64(result, _MD5_CRYPT_ORDER)


def _sha_crypt(algorithm: str, password: bytes, salt: bytes, rounds: int) -> str:
    digest = getattr(hashlib, algorithm)
    size = digest().digest_size
    alternate = digest(password + salt + password).digest()
    ctx = digest(password + salt + _repeat(alternate, len(password)))
    bits = len(password)
    while bits:
        ctx.update(alternate if bits & 1 else password)
        bits >>= 1
    result = ctx.digest()
    p_bytes = _repeat(digest(password * len(password)).digest(), len(password))
    s_bytes = _repeat(digest(salt * (16 + result[0])).digest(), len(salt))
    for i in range(rounds):
        ctx = digest(p_bytes if i & 1 else result)
        if i % 3:
            ctx.update(s_bytes)
        if i % 7:
            ctx.update(p_bytes)
        ctx.update(result if i & 1 else p_bytes)
        result = ctx.digest()
    order = _SHA256_CRYPT_ORDER if size == 32 else _SHA512_CRYPT_ORDER
    return _crypt_b64(result, order)


# --------------------------------------------------------------------------
# Verifiers, one per format.  Each gets the UTF-8 password and the stored
# hash; it returns whether they match and may raise on malformed input.
# --------------------------------------------------------------------------

_BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_BCRYPT_SHAPE = re.compile(r"\$2[abzy]?\$(\d\d)\$([./A-Za-z0-9]{22})(.*)", re.DOTALL)


def _verify_bcrypt(password: bytes, hashed: str) -> bool:
    # Kratos rejects, rather than truncates, passwords bcrypt cannot see whole.
    match = _BCRYPT_SHAPE.fullmatch(hashed)
    if match is None or len(password) > BCRYPT_MAX_PASSWORD_BYTES:
        return False
    cost, salt, checksum = match.groups()
    if not 4 <= int(cost) <= _MAX_BCRYPT_COST:
        return False
    # $2$/$2a$/$2b$/$2y$/$2z$ are the same algorithm for passwords of at most
    # 72 bytes; the Python library only parses $2b$.  Go also ignores the
    # unused low bits of the last salt character, the library refuses them.
    last = _BCRYPT_ALPHABET[_BCRYPT_ALPHABET.index(salt[-1]) & 0x30]
    setting = f"$2b${cost}${salt[:-1]}{last}".encode("ascii")
    computed = bcrypt.hashpw(password, setting)
    return _equal(checksum.encode("utf-8"), computed[len(setting) :])


_ARGON2_VERSION = 19
_ARGON2_VERSION_FIELD = re.compile(r"v=(\d+)")
_ARGON2_PARAMS_FIELD = re.compile(r"m=(\d+),t=(\d+),p=(\d+)")


def _argon2_verifier(kind: Type) -> Callable[[bytes, str], bool]:
    def verify(password: bytes, hashed: str) -> bool:
        parts = hashed.split("$")
        if len(parts) != 6:
            return False
        version = _ARGON2_VERSION_FIELD.fullmatch(parts[2])
        params = _ARGON2_PARAMS_FIELD.fullmatch(parts[3])
        if version is None or params is None or int(version[1]) != _ARGON2_VERSION:
            return False
        memory, iterations, parallelism = (int(value) for value in params.groups())
        if not (
            1 <= memory <= _MAX_ARGON2_MEMORY_KIB
            and 1 <= iterations <= _MAX_ARGON2_ITERATIONS
            and 1 <= parallelism <= _MAX_ARGON2_PARALLELISM
        ):
            return False
        salt, expected = _b64decode_raw(parts[4]), _b64decode_raw(parts[5])
        # The key length is whatever the stored key decodes to.
        computed = _argon2_raw(kind, password, salt, memory, iterations, parallelism, len(expected))
        return _equal(expected, computed)

    return verify


def _argon2_raw(
    kind: Type, password: bytes, salt: bytes, memory_kib: int, iterations: int, parallelism: int, key_length: int
) -> bytes:
    # Go's argon2 silently raises memory to 8 KiB per lane while libargon2
    # refuses less; raise it the same way so small "m" values still verify.
    return hash_secret_raw(
        secret=password,
        salt=salt,
        time_cost=iterations,
        memory_cost=max(memory_kib, 8 * parallelism),
        parallelism=parallelism,
        hash_len=key_length,
        type=kind,
        version=_ARGON2_VERSION,
    )


_PBKDF2_PARAMS_FIELD = re.compile(r"i=(\d+),l=(\d+)")
# Kratos maps "sha224"/"sha384" to SHA3 (a historic mistake kept for
# compatibility) and falls back to SHA-256 for any other "shaNNN".
_PBKDF2_DIGESTS = {
    "sha1": "sha1",
    "sha224": "sha3_224",
    "sha256": "sha256",
    "sha384": "sha3_384",
    "sha512": "sha512",
}


def _verify_pbkdf2(password: bytes, hashed: str) -> bool:
    parts = hashed.split("$")
    if len(parts) != 5:
        return False
    params = _PBKDF2_PARAMS_FIELD.fullmatch(parts[2])
    if params is None:
        return False
    iterations = int(params[1])  # "l" is ignored: the stored key decides.
    if not 1 <= iterations <= _MAX_PBKDF2_ITERATIONS:
        return False
    salt, expected = _b64decode_raw(parts[3]), _b64decode_raw(parts[4])
    if not expected:
        return False
    digest = _PBKDF2_DIGESTS.get(parts[1].partition("-")[2], "sha256")
    computed = hashlib.pbkdf2_hmac(digest, password, salt, iterations, len(expected))
    return _equal(expected, computed)


_SCRYPT_PARAMS_FIELD = re.compile(r"ln=(\d+),r=(\d+),p=(\d+)")


def _scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, key_length: int) -> bytes:
    # hashlib's default memory cap (32 MiB) is below what the bounds allow.
    maxmem = 128 * r * (n + p + 2) + (1 << 20)
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=key_length)


def _scrypt_params(text: str, max_n: int) -> tuple[int, int, int]:
    params = _SCRYPT_PARAMS_FIELD.fullmatch(text)
    if params is None:
        raise ValueError("bad scrypt parameters")
    n, r, p = (int(value) for value in params.groups())
    if not (1 <= r <= _MAX_SCRYPT_R and 1 <= p <= _MAX_SCRYPT_P and n <= max_n):
        raise ValueError("scrypt parameters out of bounds")
    return n, r, p


def _verify_scrypt(password: bytes, hashed: str) -> bool:
    parts = hashed.split("$")
    if len(parts) != 5:
        return False
    # Kratos quirk: "ln" holds N itself, not log2(N).
    n, r, p = _scrypt_params(parts[2], _MAX_SCRYPT_N)
    salt, expected = _b64decode(parts[3]), _b64decode(parts[4])
    if not expected:
        return False
    return _equal(expected, _scrypt(password, salt, n, r, p, len(expected)))


def _verify_firebase_scrypt(password: bytes, hashed: str) -> bool:
    parts = hashed.split("$")
    if len(parts) != 7:
        return False
    # Here "ln" is Firebase's mem_cost, i.e. log2(N).
    log_n, r, p = _scrypt_params(parts[2], _MAX_FIREBASE_SCRYPT_LOG_N)
    salt, expected, separator, signer_key = (_b64decode(part) for part in parts[3:7])
    # Firebase's modified scrypt: derive a 256-bit AES key, then encrypt the
    # project's signer key with AES-CTR (zero IV); the ciphertext is the hash.
    key = _scrypt(password, salt + separator, 1 << log_n, r, p, 32)
    encryptor = Cipher(algorithms.AES(key), modes.CTR(bytes(16))).encryptor()
    computed = encryptor.update(signer_key) + encryptor.finalize()
    return _equal(expected, computed)


def _verify_md5(password: bytes, hashed: str) -> bool:
    parts = hashed.split("$")
    if len(parts) == 3:  # $md5$<digest>
        return _equal(_b64decode(parts[2]), hashlib.md5(password).digest())
    if len(parts) == 5:  # $md5$pf=<template>$<salt>$<digest>
        template = _parse_template_field(parts[2])
        salt, expected = _b64decode(parts[3]), _b64decode(parts[4])
        return _equal(expected, hashlib.md5(_apply_template(template, salt, password)).digest())
    return False


def _verify_sha(password: bytes, hashed: str) -> bool:
    parts = hashed.split("$")
    if len(parts) != 5:
        return False
    template = _parse_template_field(parts[2])
    salt, expected = _b64decode(parts[3]), _b64decode(parts[4])
    computed = hashlib.new(parts[1], _apply_template(template, salt, password)).digest()
    return _equal(expected, computed)


# {SCHEME} -> (digest, digest size); the salt is whatever follows the digest.
_SSHA_SCHEMES = {"{SSHA}": ("sha1", 20), "{SSHA256}": ("sha256", 32), "{SSHA512}": ("sha512", 64)}


def _verify_ssha(password: bytes, hashed: str) -> bool:
    scheme, _, encoded = hashed.partition("}")
    digest, size = _SSHA_SCHEMES[scheme + "}"]
    # Kratos decodes LDAP hashes with Go's lenient (non-strict) decoder, which
    # skips line breaks and ignores stray trailing bits.
    decoded = base64.b64decode(encoded.replace("\r", "").replace("\n", ""), validate=True)
    if len(decoded) <= size:  # at least one salt byte
        return False
    expected, salt = decoded[:size], decoded[size:]
    return _equal(expected, hashlib.new(digest, password + salt).digest())


def _verify_crypt_md5(password: bytes, hashed: str) -> bool:
    # $md5-crypt$<salt>$<hash> is "$1$<salt>$<hash>" with a Kratos prefix.
    parts = hashed.split("$")
    if len(parts) != 4:
        return False
    salt, expected = parts[2].encode("utf-8"), parts[3].encode("utf-8")
    return _equal(expected, _md5_crypt(password, salt).encode("ascii"))


def _sha_crypt_verifier(algorithm: str) -> Callable[[bytes, str], bool]:
    # $sha256-crypt$[rounds=<n>$]<salt>$<hash> is "$5$..." ("$6$" for sha512).
    # Like the Go decoder Kratos uses, salt and rounds are taken verbatim
    # (no 16-character truncation, no clamping): hashes written by crypt(3)
    # are already normalised, so both readings agree on real data.
    def verify(password: bytes, hashed: str) -> bool:
        parts = hashed.split("$")
        if len(parts) == 4:
            rounds = 5000
        elif len(parts) == 5 and parts[2].startswith("rounds=") and parts[2][7:].isdigit():
            rounds = int(parts[2][7:])
        else:
            return False
        if rounds > _MAX_SHA_CRYPT_ROUNDS:
            return False
        salt, expected = parts[-2].encode("utf-8"), parts[-1].encode("utf-8")
        return _equal(expected, _sha_crypt(algorithm, password, salt, rounds).encode("ascii"))

    return verify


_HMAC_DIGESTS: dict[str, Callable[..., object] | str] = {
    "md4": _md4_factory(),
    "md5": "md5",
    "sha1": "sha1",
    "sha224": "sha224",
    "sha256": "sha256",
    "sha384": "sha384",
    "sha512": "sha512",
}


def _verify_hmac(password: bytes, hashed: str) -> bool:
    parts = hashed.split("$")
    if len(parts) != 4:
        return False
    digest = _HMAC_DIGESTS[parts[1].removeprefix("hmac-")]
    expected, key = _b64decode(parts[2]), _b64decode(parts[3])
    # The stored value is the base64 of the lowercase *hex* digest.
    computed = hmac.new(key, password, digest).hexdigest().encode("ascii")  # type: ignore[arg-type]
    return _equal(expected, computed)


# --------------------------------------------------------------------------
# Dispatch table, in Kratos's order (hash/hash_comparator.go); the regexes
# are Kratos's, anchored at the start only.
# --------------------------------------------------------------------------

_BCRYPT_RE = re.compile(r"\$2[abzy]?\$")
_ARGON2ID_RE = re.compile(r"\$argon2id\$")

_VERIFIERS: tuple[tuple[re.Pattern[str], Callable[[bytes, str], bool]], ...] = (
    (re.compile(r"\$md5-crypt\$"), _verify_crypt_md5),
    (_BCRYPT_RE, _verify_bcrypt),
    (re.compile(r"\$sha256-crypt\$"), _sha_crypt_verifier("sha256")),
    (re.compile(r"\$sha512-crypt\$"), _sha_crypt_verifier("sha512")),
    (_ARGON2ID_RE, _argon2_verifier(Type.ID)),
    (re.compile(r"\$argon2i\$"), _argon2_verifier(Type.I)),
    (re.compile(r"\$pbkdf2-sha[0-9]{1,3}\$"), _verify_pbkdf2),
    (re.compile(r"\$scrypt\$"), _verify_scrypt),
    (re.compile(r"\{SSHA(256|512)?\}"), _verify_ssha),
    (re.compile(r"\$sha(1|256|512)\$"), _verify_sha),
    (re.compile(r"\$firescrypt\$"), _verify_firebase_scrypt),
    (re.compile(r"\$md5\$"), _verify_md5),
    (re.compile(r"\$hmac-(md4|md5|sha1|sha224|sha256|sha384|sha512)\$"), _verify_hmac),
)

# What a verifier may raise on a malformed hash (binascii.Error and
# UnicodeError are ValueErrors; KeyError comes from table lookups).
_MALFORMED = (ValueError, TypeError, KeyError, IndexError, OverflowError, HashingError)


def _find_verifier(hashed: str) -> Callable[[bytes, str], bool] | None:
    for pattern, verifier in _VERIFIERS:
        if pattern.match(hashed):
            return verifier
    return None


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------


def is_supported_hash(hashed: str) -> bool:
    """Whether Kratos would accept ``hashed`` as an imported password hash."""
    return isinstance(hashed, str) and _find_verifier(hashed) is not None


def verify_password(password: str, hashed: str) -> bool:
    """Check ``password`` against any supported hash; never raises."""
    if not isinstance(password, str) or not isinstance(hashed, str):
        return False
    verifier = _find_verifier(hashed)
    if verifier is None:
        return False
    try:
        return verifier(_utf8(password), hashed)
    except _MALFORMED:
        return False


def hash_password(password: str, params: HasherParams) -> str:
    """Hash ``password`` the way the configured Kratos hasher would."""
    secret = _utf8(password)
    if params.algorithm == "bcrypt":
        return _hash_bcrypt(secret, params.bcrypt_cost)
    if params.algorithm == "argon2":
        return _hash_argon2id(secret, params.argon2)
    raise ValueError(f"unknown password hasher {params.algorithm!r}")


def needs_rehash(hashed: str, params: HasherParams) -> bool:
    """True when ``hashed`` is not in the configured algorithm's format.

    Mirrors Kratos's ``Hasher.Understands``: only the format counts, not the
    cost parameters, and argon2i is "foreign" to the argon2id hasher.
    """
    native = {"bcrypt": _BCRYPT_RE, "argon2": _ARGON2ID_RE}.get(params.algorithm)
    if native is None:
        raise ValueError(f"unknown password hasher {params.algorithm!r}")
    return native.match(hashed) is None


def _hash_bcrypt(password: bytes, cost: int) -> str:
    if len(password) > BCRYPT_MAX_PASSWORD_BYTES:
        raise PasswordTooLong(
            f"password is {len(password)} bytes long, bcrypt allows at most {BCRYPT_MAX_PASSWORD_BYTES}"
        )
    # Go's bcrypt substitutes its default cost (10) for costs below 4.
    salt = bcrypt.gensalt(rounds=cost if cost >= 4 else 10, prefix=b"2b")
    hashed = bcrypt.hashpw(password, salt).decode("ascii")
    # Go writes the "$2a$" identifier for the very same algorithm.
    return "$2a$" + hashed.removeprefix("$2b$")


def _hash_argon2id(password: bytes, params: Argon2Params) -> str:
    salt = secrets.token_bytes(params.salt_length)
    key = _argon2_raw(
        Type.ID, password, salt, params.memory_kib, params.iterations, params.parallelism, params.key_length
    )
    return (
        f"$argon2id$v={_ARGON2_VERSION}"
        f"$m={params.memory_kib},t={params.iterations},p={params.parallelism}"
        f"${_b64encode_raw(salt)}${_b64encode_raw(key)}"
    )
