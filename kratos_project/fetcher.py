"""Kratos's URI fetcher (ory/x `fetcher`): configuration values that point at a document.

Identity schemas, courier templates and HTTP request bodies are configured as `file://`,
`base64://` or `http(s)://` URIs; this reads any of them.
"""
from __future__ import annotations

import base64
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlparse

HTTP_TIMEOUT_SECONDS = 10


def fetch(url: str) -> bytes:
    """The document at `url`; OSError when it cannot be read, ValueError for an unknown scheme.

    A relative `file://` path (`file://./x.json`, Kratos's `file://path/x.json`) is read from the
    current working directory.
    """
    parsed = urlparse(url)
    if parsed.scheme == "base64":
        encoded = url[len("base64://"):]
        # Accept both base64 alphabets, padded or not: operators paste either.
        standard = encoded.translate(str.maketrans("-_", "+/"))
        return base64.b64decode(standard + "=" * (-len(standard) % 4))
    if parsed.scheme == "file":
        return Path(unquote(parsed.netloc + parsed.path)).read_bytes()
    if parsed.scheme in ("http", "https"):
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310 (scheme checked)
            return response.read()
    raise ValueError(f"unsupported URL scheme {parsed.scheme!r}")
