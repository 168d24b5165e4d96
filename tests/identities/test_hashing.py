"""Unit tests for identities.hashing (no database).

Vector sources:
* "kratos": ory/kratos v26.2.0 hash/hasher_test.go (TestCompare).
* "drepper": SHA-crypt specification (akkadia.org/drepper/SHA-crypt.txt),
  also glibc crypt/sha256c-test.c and sha512c-test.c.
* "glibc md5c-test": glibc crypt/md5c-test.c and the classic MD5-crypt tests.
* "openwall": crypt_blowfish wrapper.c test vector.
* "rfc6070" / "rfc7914": PBKDF2-HMAC-SHA1 and scrypt RFC test vectors,
  rewritten in Kratos's encoding.
* "rfc1320": MD4 test suite.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest

from identities.hashing import (
    Argon2Params,
    HasherParams,
    PasswordTooLong,
    _MD4,
    hash_password,
    is_supported_hash,
    needs_rehash,
    verify_password,
)

# (password, hash) pairs that must verify; the same hash must reject "wrong password".
KNOWN_VECTORS = [
    # bcrypt -- kratos
    ("test", "$2a$12$o6hx.Wog/wvFSkT/Bp/6DOxCtLRTDj7lm9on9suF/WaCGNVHbkfL6"),
    # bcrypt -- openwall, plus the same hash under every identifier Kratos accepts
    ("U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
    ("U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
    ("U*U", "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
    ("U*U", "$2z$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
    ("U*U", "$2$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"),
    # argon2id / argon2i -- kratos
    ("test", "$argon2id$v=19$m=32,t=2,p=4$cm94YnRVOW5jZzFzcVE4bQ$MNzk5BtR2vUhrp6qQEjRNw"),
    ("test", "$argon2id$v=19$m=32,t=5,p=4$cm94YnRVOW5jZzFzcVE4bQ$fBxypOL0nP/zdPE71JtAV71i487LbX3fJI5PoTN6Lp4"),
    ("test", "$argon2i$v=19$m=65536,t=3,p=4$kk51rW/vxIVCYn+EG4kTSg$NyT88uraJ6im6dyha/M5jhXvpqlEdlS/9fEm7ScMb8c"),
    # pbkdf2 -- kratos (sha224/sha384 are SHA3 there)
    ("test", "$pbkdf2-sha256$i=100000,l=32$1jP+5Zxpxgtee/iPxGgOz0RfE9/KJuDElP1ley4VxXc$QJxzfvdbHYBpydCbHoFg3GJEqMFULwskiuqiJctoYpI"),
    ("test", "$pbkdf2-sha512$i=100000,l=32$bdHBpn7OWOivJMVJypy2UqR0UnaD5prQXRZevj/05YU$+wArTfv1a+bNGO1iZrmEdVjhA+lL11wF4/IxpgYfPwc"),
    ("test", "$pbkdf2-sha224$i=100000,l=32$A2nzbFd+wwzPSb+TqkF5Pw$9M4GM2yOYw/fZvsvQbF/0Ec8JO2u9O1MYRTfrDimX6o"),
    ("test", "$pbkdf2-sha384$i=100000,l=32$xDInuz7Y/DPzZUnCaQXJmg$7ICaEa6jEqxbbCBbv4YzrBf39KYNAtc3Bj0QWKeB3Ck"),
    # pbkdf2 -- rfc6070 case 2 (c=2, 0xea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957)
    ("password", "$pbkdf2-sha1$i=2,l=20$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiVc"),
    # scrypt -- kratos ("ln" is N itself)
    ("test", "$scrypt$ln=16384,r=8,p=1$2npRo7P03Mt8keSoMbyD/tKFWyUzjiQf2svUaNDSrhA=$MiCzNcIplSMqSBrm4HckjYqYhaVPPjTARTzwB1cVNYE="),
    # scrypt -- rfc7914 section 12, first vector (empty password and salt, N=16, r=1, p=1)
    ("", "$scrypt$ln=16,r=1,p=1$$d9ZXYjhleyA7GcpCwYoEl/FrSETjB0ro39/6P+3iFEL80Aad7QlI+DJqdToPyB8X6NPg+y4NNijPNeIMONGJBg=="),
    # firebase scrypt -- kratos
    ("8x4WjoDbSxJZdR", "$firescrypt$ln=14,r=8,p=1$sPtDhWcd1MfdAw==$xbSou7FOl6mChCyzpCPIQ7tku7nsQMTFtyOZSXXd7tjBa4NtimOx7v42Gv2SfzPQu1oxM2/k4SsbOu73wlKe1A==$Bw==$YE0dO4bwD4JnJafh6lZZfkp1MtKzuKAXQcDCJNJNyeCHairWHKENOkbh3dzwaCdizzOspwr/FITUVlnOAwPKyw=="),
    # md5 -- kratos (plain and templates)
    ("test", "$md5$CY9rzUYh03PK3k6DJie09g=="),
    ("ory", "$md5$ptoWyof5SobW+pbZu2QXoQ=="),
    ("test", "$md5$pf=e1NBTFR9e1BBU1NXT1JEfQ==$MTIz$q+RdKCgc+ipCAcm5ChQwlQ=="),
    ("test", "$md5$pf=e1NBTFR9JCR7UEFTU1dPUkR9$MTIzNA==$ud392Z8rfZ+Ou7ZFXYLKbA=="),
    ("ory", "$md5$pf=e1BBU1NXT1JEfXtTQUxUfSQ/$MTIzNDU2Nzg5$8PhwWanVRnpJAFK4NUjR0w=="),
    # sha1 / sha256 / sha512 with templates -- kratos
    ("test", "$sha1$pf=e1NBTFR9e1BBU1NXT1JEfQ==$NW9wbWtnejAzcg==$2qU2SGWP8viTM1md3FiI3+rjWXQ="),
    ("BwS^514g^cv@Z", "$sha1$pf=e1NBTFR9e1BBU1NXT1JEfQ==$NW9wbWtnejAzcg==$99h9net4BXl7qdTRaiGUobLROxM="),
    ("test", "$sha1$pf=Pz9zdGF0aWNQcmVmaXg/P3tTQUxUfXtQQVNTV09SRH0=$NW9wbWtnejAzcg==$SAAxMUn7jxckQXkBmsVF0nHwqso="),
    ("test", "$sha1$pf=e1BBU1NXT1JEfSUle1NBTFR9$NW9wbWtnejAzcg==$YX0AW8/MW5ojUlnzTaR43ucHCog="),
    ("test", "$sha1$pf=JHtQQVNTV09SRH0ke1NBTFR9JA==$NW9wbWtnejAzcg==$iE5n1yjX3oAdxRHwZ4u57I4LpQo="),
    ("test", "$sha256$pf=e1NBTFR9e1BBU1NXT1JEfQ==$NW9wbWtnejAzcg==$0gfRVLCvtBCk20udLDEY5vNhujWx7RGjwRIS1ebMsLY="),
    ("test", "$sha256$pf=e1NBTFR9JCR7UEFTU1dPUkR9$NW9wbWtnejAzcg==$HokCOi9OtiZaZRvnkgemV3B4UUHpI7kA8zq/EZWH2NY="),
    ("test", "$sha512$pf=e1NBTFR9e1BBU1NXT1JEfQ==$NW9wbWtnejAzcg==$6ctpVuApMNp0CgBXcdHw/GC562eFEFGr4gpgANX8ZYsX+j5B19IkdmOY2Fytsz3QUwSWdGcUjbqwgJGTH0UYvw=="),
    ("test", "$sha512$pf=e1NBTFR9JCR7UEFTU1dPUkR9$NW9wbWtnejAzcg==$1F9BPW8UtdJkZ9Dhlf+D4X4dJ9xfuH8y04EfuCP2k4aGPPq/aWxU9/xe3LydHmYW1/K3zu3NFO9ETVrZettz3w=="),
    # {SSHA}, {SSHA256}, {SSHA512} -- kratos
    ("test123", "{SSHA}JFZFs0oHzxbMwkSJmYVeI8MnTDy/276a"),
    ("test123", "{SSHA256}czO44OTV17PcF1cRxWrLZLy9xHd7CWyVYplr1rOhuMlx/7IK"),
    ("test123", "{SSHA512}xPUl/px+1cG55rUH4rzcwxdOIPSB2TingLpiJJumN2xyDWN4Ix1WQG3ihnvHaWUE8MYNkvMi5rf0C9NYixHsE6Yh59M="),
    # md5-crypt -- kratos and glibc md5c-test
    ("test", "$md5-crypt$TVEiiKNb$SN6/pUaRQS/E8Jh46As2C/"),
    ("test", "$md5-crypt$$whuMjZj.HMFoaTaZRRtkO0"),
    ("ory", "$md5-crypt$xWMlm2eL$GGTOpgZu4p2k6ORprAu3b."),
    ("Hello world!", "$md5-crypt$saltstri$YMyguxXMBpd2TEZ.vS/3q1"),
    # sha256-crypt -- kratos and drepper
    ("test", "$sha256-crypt$rounds=535000$05R.9KB6UC2kLI3w$Q/zslzx./JjkAVPTwp6th7nW5l7JU91Gte/UmIh.U78"),
    ("Hello world!", "$sha256-crypt$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"),
    ("Hello world!", "$sha256-crypt$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"),
    ("This is just a test", "$sha256-crypt$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5"),
    ("the minimum number is still observed", "$sha256-crypt$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC"),
    # sha512-crypt -- kratos and drepper
    ("ory", "$sha512-crypt$rounds=656000$0baQbxBrfpKqvizk$Q9cYk1MeNAlECPgpG3jjfNI2DumLqd0yHbxzLdxiX6nsSD5i9n0awcbiCf8R5DzpIYxeBPznPcb1wtzlgUKtH0"),
    ("Hello world!", "$sha512-crypt$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"),
    ("Hello world!", "$sha512-crypt$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."),
    ("This is just a test", "$sha512-crypt$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"),
    # hmac-* -- kratos (key "12345")
    ("test", "$hmac-md4$MWQ5ZTI4Nzc2Zjg4YmE2MTQ5YjQ0OTMyOGE4NWU4YjA=$MTIzNDU="),
    ("test", "$hmac-md5$ZmU4Njk3Zjc0MmQwODA0MDVkMTI3MGU2MTYzMzE2Zjk=$MTIzNDU="),
    ("test", "$hmac-sha1$NDMyNjcxZTUyY2Y2YTBmYjZjZDE2NjQxYjAwNjFiZjAwOGEzNWM5MA==$MTIzNDU="),
    ("test", "$hmac-sha224$YmUwYmYzM2EwNGRlNDE0YjQzNjBhNmIyOThmNmIyYzI4OWQyMzk3MDUwZDFjMzliYjVmMDMyOTQ=$MTIzNDU="),
    ("test", "$hmac-sha256$ZTAzMWJhMWMyOTM4YjFkMjgzZjkxOWExZGY5YWM2NmMxOTJhN2RkNzQ0MzJkNWZkNGFkYTI5OTk0MWJhMTA5Zg==$MTIzNDU="),
    ("test", "$hmac-sha384$ZWEyMGM3NGE4Y2UzMTljNTdjZTlhZGQyYTZjNDE0MGQ4YjMwYWIwOWM4OTRiNWQ4MmZjODlhMzBhMmQzNGE5NmQ0NDY1NWRhYjQ2ZjhiYjBkNTRmYjk5YWZkZTA1MGY1$MTIzNDU="),
    ("test", "$hmac-sha512$OTFmODY0ZTI1NmU0ZjVhYjhiMDViZGFmNGVmNGZmMGVlNTY4ODYwNWJhYTk4MTk2OTgyMzc3NzI1YTc4MzcxMTMzNzZmY2YxYTk5MGMxM2RiZDk2MGFmMmQ1YzRmODdlMGMwYTNkYjcyNjY0NjM4NGE4YzQ2MjNhZDZkN2UxZTE=$MTIzNDU="),
]


def _ids(vectors: list[tuple[str, str]]) -> list[str]:
    # Test ids show the scheme prefix, e.g. "$sha256-crypt$".
    return [re.match(r"[{$][^$}]*[$}]?", hashed).group(0) for _, hashed in vectors]


@pytest.mark.parametrize("password,hashed", KNOWN_VECTORS, ids=_ids(KNOWN_VECTORS))
def test_known_vector_verifies(password: str, hashed: str) -> None:
    assert is_supported_hash(hashed)
    assert verify_password(password, hashed)


@pytest.mark.parametrize("password,hashed", KNOWN_VECTORS, ids=_ids(KNOWN_VECTORS))
def test_known_vector_rejects_wrong_password(password: str, hashed: str) -> None:
    assert not verify_password(password + "x", hashed)
    assert not verify_password("wrong password", hashed)


# Hashes that Kratos's own tests expect to fail for the given password.
@pytest.mark.parametrize(
    "password,hashed",
    [
        # altered digests
        ("test", "$2a$12$o6hx.Wog/wvFSkT/Bp/6DOxCtLRTDj7lm9on9suF/WaCGNVHbkfL7"),
        ("test", "$argon2id$v=19$m=32,t=2,p=4$cm94YnRVOW5jZzFzcVE4bQ$MNzk5BtR2vUhrp6qQEjRN2"),
        ("test", "$argon2i$v=19$m=65536,t=3,p=4$pZ+27D6B0bCi0DwSmANF1w$4RNCUu4Uyu7eTIvzIdSuKz+I9idJlX/ykn6J10/W0EU"),
        ("test", "$pbkdf2-sha256$i=100000,l=32$1jP+5Zxpxgtee/iPxGgOz0RfE9/KJuDElP1ley4VxXc$QJxzfvdbHYBpydCbHoFg3GJEqMFULwskiuqiJctoYpp"),
        ("test", "$scrypt$ln=16384,r=8,p=1$2npRo7P03Mt8keSoMbyD/tKFWyUzjiQf2svUaNDSrhA=$MiCzNcIplSMqSBrm4HckjYqYhaVPPjTARTzwB1cVNYF="),
        ("8x4WjoDbSxJZdR", "$firescrypt$ln=14,r=8,p=1$sPtDhWcd1MfdAw==$xbSou7FOl6mChCyzpCPIQ7tku7nsQMTFtyOZSXXd7tjBa4NtimOx7v42Gv2SfzPQu1oxM2/k4SsbOu73wlKe1A==$Bw==$YE0dO4bwD4JnJafh6lZZfkp1MtKzuKAXQcDCJNJNyeCHairWHKENOkbh3dzwaCdizzOspwr/FITUVlnOAwPKyc=="),
        ("test", "$md5$WhBei51A4TKXgNYuoiZdig=="),
        ("test", "$md5$pf=e1NBTFR9e1BBU1NXT1JEfQ==$MTIz$hh8ZTp1hGPPZQqcr4+UXSQ=="),
        ("test", "$md5-crypt$xWMlm2eL$GGTOpgZu4p2k6ORprAu3b."),
        ("ory", "$sha256-crypt$rounds=535000$T95kH8e37IGVdxzJ$gLeaNa6qRog.bx4Bzqp63ceWItH6nSAal6c3WmT5GHB"),
        # wrong salt for the sha1 template vector
        ("test", "$sha1$pf=e1NBTFR9e1BBU1NXT1JEfQ==$cDJvb3ZrZGJ6cQ==$2qU2SGWP8viTM1md3FiI3+rjWXQ="),
        # wrong hmac key
        ("test", "$hmac-md4$MWQ5ZTI4Nzc2Zjg4YmE2MTQ5YjQ0OTMyOGE4NWU4YjA=$MTIzNA=="),
        # not an importable prefix ($5$ is only accepted as $sha256-crypt$)
        ("test", "$5$rounds=535000$awpcR7lDlnK/S7WE$vHU7KkQwyjfGz6u4MUi7.lH9htK/l63HloTsX1ZMz.3"),
    ],
)
def test_mismatching_hash_is_rejected(password: str, hashed: str) -> None:
    assert not verify_password(password, hashed)


@pytest.mark.parametrize(
    "hashed",
    [
        "",
        "test",
        "$unknown$12$o6hx.Wog/wvFSkT/Bp/6DOxCtLRTDj7lm9on9suF/WaCGNVHbkfL6",
        # bcrypt: truncated / bad cost / cost above the DoS bound
        "$2a$12$o6hx.Wog",
        "$2a$1x$o6hx.Wog/wvFSkT/Bp/6DOxCtLRTDj7lm9on9suF/WaCGNVHbkfL6",
        "$2a$03$o6hx.Wog/wvFSkT/Bp/6DOxCtLRTDj7lm9on9suF/WaCGNVHbkfL6",
        "$2a$20$abcdefghijklmnopqrstuugn/uitWMnDoOdJaSWqW1pjEXZ8eOSCqK",
        # argon2: wrong version, missing parts, bad base64, absurd cost
        "$argon2id$v=16$m=32,t=2,p=4$cm94YnRVOW5jZzFzcVE4bQ$MNzk5BtR2vUhrp6qQEjRNw",
        "$argon2id$v=19$m=32,t=2,p=4$cm94YnRVOW5jZzFzcVE4bQ",
        "$argon2id$v=19$m=32,t=2,p=4$cm94YnRVOW5jZzFzcVE4bQ==$MNzk5BtR2vUhrp6qQEjRNw",
        "$argon2id$v=19$m=8388608,t=2,p=4$cm94YnRVOW5jZzFzcVE4bQ$MNzk5BtR2vUhrp6qQEjRNw",
        "$argon2id$v=19$m=65536,t=1000,p=4$cm94YnRVOW5jZzFzcVE4bQ$MNzk5BtR2vUhrp6qQEjRNw",
        "$argon2id$v=19$m=32,t=2,p=0$cm94YnRVOW5jZzFzcVE4bQ$MNzk5BtR2vUhrp6qQEjRNw",
        # pbkdf2 (kratos malformed cases + iteration bound)
        "$pbkdf2-sha256$1jP+5Zxpxgtee/iPxGgOz0RfE9/KJuDElP1ley4VxXc$QJxzfvdbHYBpydCbHoFg3GJEqMFULwskiuqiJctoYpI",
        "$pbkdf2-sha256$aaaa$1jP+5Zxpxgtee/iPxGgOz0RfE9/KJuDElP1ley4VxXc$QJxzfvdbHYBpydCbHoFg3GJEqMFULwskiuqiJctoYpI",
        "$pbkdf2-sha256$i=100000,l=32$1jP+5Zxpxgtee/iPxGgOz0RfE9/KJuDElP1ley4VxXcc$QJxzfvdbHYBpydCbHoFg3GJEqMFULwskiuqiJctoYpI",
        "$pbkdf2-sha256$i=100000,l=32$1jP+5Zxpxgtee/iPxGgOz0RfE9/KJuDElP1ley4VxXc$QJxzfvdbHYBpydCbHoFg3GJEqMFULwskiuqiJctoYpII",
        "$pbkdf2-sha512$I=100000,l=32$bdHBpn7OWOivJMVJypy2UqR0UnaD5prQXRZevj/05YU$+wArTfv1a+bNGO1iZrmEdVjhA+lL11wF4/IxpgYfPwc",
        "$pbkdf2-sha256$i=1000000000,l=32$1jP+5Zxpxgtee/iPxGgOz0RfE9/KJuDElP1ley4VxXc$QJxzfvdbHYBpydCbHoFg3GJEqMFULwskiuqiJctoYpI",
        "$pbkdf2-sha256$i=1,l=0$c2FsdA$",
        # scrypt (kratos malformed cases + bounds)
        "$scrypt$2npRo7P03Mt8keSoMbyD/tKFWyUzjiQf2svUaNDSrhA=$MiCzNcIplSMqSBrm4HckjYqYhaVPPjTARTzwB1cVNYE=",
        "$scrypt$ln=16384,r=8,p=1$(2npRo7P03Mt8keSoMbyD/tKFWyUzjiQf2svUaNDSrhA=$MiCzNcIplSMqSBrm4HckjYqYhaVPPjTARTzwB1cVNYE=",
        "$scrypt$ln=16385,r=8,p=1$2npRo7P03Mt8keSoMbyD/tKFWyUzjiQf2svUaNDSrhA=$MiCzNcIplSMqSBrm4HckjYqYhaVPPjTARTzwB1cVNYE=",
        "$scrypt$ln=abc,r=8,p=1$2npRo7P03Mt8keSoMbyD/tKFWyUzjiQf2svUaNDSrhA=$MiCzNcIplSMqSBrm4HckjYqYhaVPPjTARTzwB1cVNYE=",
        "$scrypt$ln=2097152,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaA==",
        "$scrypt$ln=16384,r=1024,p=1$c2FsdHNhbHRzYWx0$aGFzaA==",
        "$scrypt$ln=16384,r=8,p=1$c2FsdA==$",
        # firebase scrypt bounds (hash/hash_limits_test.go)
        "$firescrypt$ln=31,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaA==$Bw==$a2V5a2V5",
        "$firescrypt$ln=14,r=1024,p=1$c2FsdHNhbHRzYWx0$aGFzaA==$Bw==$a2V5a2V5",
        "$firescrypt$ln=14,r=8,p=1024$c2FsdHNhbHRzYWx0$aGFzaA==$Bw==$a2V5a2V5",
        "$firescrypt$ln=14,r=8,p=1$c2FsdA==$aGFzaA==$Bw==",
        # md5 (kratos malformed cases)
        "$md5$$",
        "$md5$$$",
        "$md5$pf=$$",
        "$md5$pf=MTIz$Z$",
        "$md5$pf=MTIz$MTIz$Z",
        "$md5$",
        # sha templates (kratos malformed cases)
        "$sha1$pf=e1NBTFR9e1BBU1NXT1JEfQ==$5opmkgz03r$2qU2SGWP8viTM1md3FiI3+rjWXQ=",
        "$sha1$pf=$NW9wbWtnejAzcg==$2qU2SGWP8viTM1md3FiI3+rjWXQ=",
        "$sha1$$NW9wbWtnejAzcg==$2qU2SGWP8viTM1md3FiI3+rjWXQ=",
        "$sha1$NW9wbWtnejAzcg==$2qU2SGWP8viTM1md3FiI3+rjWXQ=",
        "$shaNotExistent$pf=e1NBTFR9e1BBU1NXT1JEfQ==$NW9wbWtnejAzcg==$6ctpVuApMNp0CgBXcdHw/GC562eFEFGr4gpgANX8ZYsX+j5B19IkdmOY2Fytsz3QUwSWdGcUjbqwgJGTH0UYvw==",
        # ssha
        "{SSHA}tooshort",
        "{SSHA}",
        "{SSHA}JFZFs0oHzxbMwkSJmYVeI8MnTDy/276",
        "{SSHAnotExistent}xPUl/px+1cG55rUH4rzcwxdOIPSB2TingLpiJJumN2xyDWN4Ix1WQG3ihnvHaWUE8MYNkvMi5rf0C9NYixHsE6Yh59M=",
        # md5-crypt / sha-crypt (kratos malformed cases)
        "$md5-crypt$$",
        "$md5-crypt$$$",
        "$md5-crypt$whuMjZj.HMFoaTaZRRtkO0",
        "$sha256-crypt$$",
        "$sha256-crypt$$$",
        "$sha512-crypt$$",
        "$sha512-crypt$$$",
        "$sha256-crypt$rounds=abc$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5",
        "$sha256-crypt$rounds=999999999$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5",
        # hmac (kratos error cases)
        "$hmac-md5$ZmU4Njk3Zjc0MmQwODA0MDVkMTI3MGU2MTYzMzE2Zjk=",
        "$hmac-md5$ZmU4Njk3Zjc0MmQwODA0MDVkMTI3MGU2MTYzMzE2Zjk=$",
        "$hmac-md5$MTIzNDU=",
        "$hmac-md5$$MTIzNDU=",
        "$hmac-md5$",
        "$hmac$ZmU4Njk3Zjc0MmQwODA0MDVkMTI3MGU2MTYzMzE2Zjk=$MTIzNDU=",
        "$hmac-invalid$ZmU4Njk3Zjc0MmQwODA0MDVkMTI3MGU2MTYzMzE2Zjk=$MTIzNDU=",
        # non-ASCII garbage in an otherwise known format
        "$md5$ü",
        "$argon2id$v=19$m=32,t=2,p=4$ü$ü",
    ],
)
def test_malformed_hash_returns_false(hashed: str) -> None:
    assert verify_password("test", hashed) is False
    assert verify_password("", hashed) is False


@pytest.mark.parametrize(
    "hashed,supported",
    [
        ("$2a$10$whatever", True),
        ("$2$10$whatever", True),
        ("$2b$", True),
        ("$2y$", True),
        ("$2z$", True),
        ("$2x$10$whatever", False),
        ("$argon2id$", True),
        ("$argon2i$", True),
        ("$argon2d$v=19$m=32,t=2,p=4$c2FsdHNhbHQ$aGFzaA", False),
        ("$pbkdf2-sha1$", True),
        ("$pbkdf2-sha999$", True),
        ("$pbkdf2-sha$", False),
        ("$pbkdf2-md5$", False),
        ("$scrypt$", True),
        ("$firescrypt$", True),
        ("$md5$", True),
        ("$md5-crypt$", True),
        ("$sha1$", True),
        ("$sha256$", True),
        ("$sha512$", True),
        ("$sha384$", False),
        ("$sha256-crypt$", True),
        ("$sha512-crypt$", True),
        ("$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1", False),
        ("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", False),
        ("{SSHA}", True),
        ("{SSHA256}abc", True),
        ("{SSHA512}abc", True),
        ("{SSHA384}abc", False),
        ("{SHA}abc", False),
        ("$hmac-md4$", True),
        ("$hmac-sha384$", True),
        ("$hmac-sha3$", False),
        ("$hmac$", False),
        ("plaintext", False),
        ("", False),
        (" $2a$10$whatever", False),
    ],
)
def test_is_supported_hash(hashed: str, supported: bool) -> None:
    assert is_supported_hash(hashed) is supported


def test_pbkdf2_unknown_sha_variant_falls_back_to_sha256() -> None:
    # Kratos quirk: any "shaNNN" it does not know is computed with SHA-256.
    sha256_hash = "$pbkdf2-sha256$i=100000,l=32$1jP+5Zxpxgtee/iPxGgOz0RfE9/KJuDElP1ley4VxXc$QJxzfvdbHYBpydCbHoFg3GJEqMFULwskiuqiJctoYpI"
    assert verify_password("test", sha256_hash.replace("sha256", "sha999", 1))
    assert verify_password("test", sha256_hash.replace("sha256", "sha3", 1))


def test_template_placeholders_in_password_are_not_expanded() -> None:
    # strings.NewReplacer semantics: the password is inserted verbatim.
    template = base64.b64encode(b"{SALT}{PASSWORD}").decode()
    salt = base64.b64encode(b"pepper").decode()
    digest = base64.b64encode(hashlib.md5(b"pepper{SALT}").digest()).decode()
    assert verify_password("{SALT}", f"$md5$pf={template}${salt}${digest}")


@pytest.mark.parametrize(
    "message,expected",
    [
        (b"", "31d6cfe0d16ae931b73c59d7e0c089c0"),
        (b"abc", "a448017aaf21d8525fc10ae87aa6729d"),
        (b"message digest", "d9130a8164549fe818874806e1c7014b"),
        (b"1234567890" * 8, "e33b4ddc9c38f2199c3e7b164fcc0536"),
    ],
)
def test_md4_rfc1320_vectors(message: bytes, expected: str) -> None:
    assert _MD4(message).hexdigest() == expected
    assert hmac.new(b"k", message, _MD4).digest_size == 16


# ---------------------------------------------------------------------------
# Hash generation
# ---------------------------------------------------------------------------

BCRYPT_FAST = HasherParams(algorithm="bcrypt", bcrypt_cost=4)
ARGON2_FAST = HasherParams(algorithm="argon2", argon2=Argon2Params(memory_kib=1024, iterations=1, parallelism=2))


@pytest.mark.parametrize("password", ["", "test", "pässwörd ✓", "x" * 72])
def test_bcrypt_round_trip(password: str) -> None:
    hashed = hash_password(password, BCRYPT_FAST)
    assert re.fullmatch(r"\$2a\$04\$[./A-Za-z0-9]{53}", hashed)
    assert verify_password(password, hashed)
    assert not verify_password(password + "!", hashed)
    assert not needs_rehash(hashed, BCRYPT_FAST)
    assert needs_rehash(hashed, ARGON2_FAST)


@pytest.mark.parametrize("password", ["", "test", "pässwörd ✓", "x" * 200])
def test_argon2_round_trip(password: str) -> None:
    hashed = hash_password(password, ARGON2_FAST)
    assert re.fullmatch(r"\$argon2id\$v=19\$m=1024,t=1,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}", hashed)
    assert verify_password(password, hashed)
    assert not verify_password(password + "!", hashed)
    assert not needs_rehash(hashed, ARGON2_FAST)
    assert needs_rehash(hashed, BCRYPT_FAST)


def test_argon2_uses_configured_lengths() -> None:
    params = HasherParams(argon2=Argon2Params(memory_kib=64, iterations=2, parallelism=1, salt_length=8, key_length=16))
    hashed = hash_password("test", params)
    _, _, _, cost, salt, key = hashed.split("$")
    assert cost == "m=64,t=2,p=1"
    assert len(base64.b64decode(salt + "==")) == 8
    assert len(base64.b64decode(key + "==")) == 16
    assert verify_password("test", hashed)


def test_hashes_are_salted() -> None:
    assert hash_password("test", ARGON2_FAST) != hash_password("test", ARGON2_FAST)
    assert hash_password("test", BCRYPT_FAST) != hash_password("test", BCRYPT_FAST)


def test_bcrypt_rejects_password_over_72_bytes() -> None:
    with pytest.raises(PasswordTooLong):
        hash_password("x" * 73, BCRYPT_FAST)
    # 37 two-byte characters: 74 bytes although only 37 characters
    with pytest.raises(PasswordTooLong):
        hash_password("é" * 37, BCRYPT_FAST)
    assert issubclass(PasswordTooLong, ValueError)


def test_bcrypt_verify_refuses_password_over_72_bytes() -> None:
    # bcrypt would only look at the first 72 bytes; Kratos refuses instead.
    hashed = hash_password("x" * 72, BCRYPT_FAST)
    assert verify_password("x" * 72, hashed)
    assert not verify_password("x" * 73, hashed)


def test_unknown_algorithm_is_rejected() -> None:
    with pytest.raises(ValueError):
        hash_password("test", HasherParams(algorithm="md5"))
    with pytest.raises(ValueError):
        needs_rehash("$2a$04$x", HasherParams(algorithm="md5"))


@pytest.mark.parametrize("password,hashed", KNOWN_VECTORS, ids=_ids(KNOWN_VECTORS))
def test_imported_foreign_hashes_need_rehash(password: str, hashed: str) -> None:
    # Everything but argon2id must be re-hashed by the default (argon2) hasher;
    # argon2i included, as Kratos's argon2 hasher only "understands" argon2id.
    assert needs_rehash(hashed, HasherParams()) is not hashed.startswith("$argon2id$")


def test_default_params_match_kratos() -> None:
    params = HasherParams()
    assert params.algorithm == "argon2"
    assert params.bcrypt_cost == 12
    assert params.argon2 == Argon2Params(memory_kib=131072, iterations=1, parallelism=4, salt_length=16, key_length=32)


def test_lone_surrogate_does_not_raise() -> None:
    hashed = hash_password("\ud800abc", BCRYPT_FAST)
    assert verify_password("\ufffdabc", hashed)
    assert verify_password("\ud800abc", hashed)
