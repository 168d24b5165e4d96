"""Test settings: the project's settings under the test configuration (tests/kratos.test.yml).

`DSN` in the environment picks the backend (SQLite by default; CI also runs PostgreSQL and MariaDB).
"""
import os
from pathlib import Path

TESTS = Path(__file__).resolve().parent
os.environ.setdefault("KRATOS_CONFIG", str(TESTS / "kratos.test.yml"))

from kratos_project.settings import *  # noqa: E402,F403
from kratos_project.settings import BASE_DIR, DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file (not shared-cache memory) so threads in concurrency tests get real SQLite locking.
    # One file per process so concurrent runs never share (and destroy) each other's test database.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / f"test-{os.getpid()}.sqlite3")}
    (BASE_DIR / "var").mkdir(exist_ok=True)
else:
    # Concurrent runs on one server (developers' parallel sessions) must not share a test database.
    DATABASES["default"]["TEST"] = {**DATABASES["default"].get("TEST", {}),
                                    "NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # console users only; speed
