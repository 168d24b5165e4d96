"""Benchmark of the admin identity API against the real server: batch import, listing, page cost vs size.

    .venv/bin/python bench/identities.py [--count 10000] [--large 100000] [--dsn postgres://…/kratos_bench]

The script owns everything it touches: a temporary SQLite file (or, with `--dsn`, a PostgreSQL
database it creates and drops), a temporary Kratos config with free loopback ports, `manage.py
migrate`, and `manage.py serve` as a subprocess, stopped with SIGTERM at the end even on errors.

1. Import `--count` identities with bcrypt `hashed_password` credentials through
   `PATCH /admin/identities`, 1,000 per request. One cost-10 hash is computed up front and reused:
   what is measured is the import path, not bcrypt.
2. Page through all of them (`page_size=250`) following `Link: rel="next"`; every id exactly once.
3. Median latency of one page from the middle of the key space at `--count` identities, then again
   after the table has grown to `--large`; their ratio is ~1 when paging is keyset (no OFFSET scan).
   The median of `GET /health/alive` on the same server is the baseline: the fixed cost of a request.
   The extra rows are inserted by `grow_table` with the ORM's bulk_create in a separate
   `manage.py shell` process, shaped as the import writes them, because only their number matters.

Only the standard library and bcrypt on the client side; all traffic goes to 127.0.0.1.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bcrypt

REPO = Path(__file__).resolve().parent.parent
BATCH_SIZE = 1000  # Kratos's maximum for PATCH /admin/identities
PAGE_SIZE = 250  # Kratos's default page size for GET /admin/identities
BCRYPT_COST = 10  # Kratos's default bcrypt cost
PAGE_SAMPLES = 60
ALIVE_SAMPLES = 300
WARMUP_REQUESTS = 5
READY_TIMEOUT_SECONDS = 60
REQUEST_TIMEOUT_SECONDS = 300
STOP_TIMEOUT_SECONDS = 30
GROW_CHUNK = 5000  # identities per transaction when growing the table
NEXT_LINK = re.compile(r'<([^>]*)>;\s*rel="next"')
# The server and its commands read the Kratos config we write; variables that would override it
# (a test session's DSN or settings module) must not leak in.
_FOREIGN_ENV = ("DJANGO_SETTINGS_MODULE", "KRATOS_CONFIG", "KRATOS_DEV", "DSN")


# --- environment: database, config, server -----------------------------------------------------


@contextmanager
def database(dsn: str | None, workdir: Path) -> Iterator[str]:
    """A fresh database for this run: a SQLite file in `workdir`, or a PostgreSQL database we create and drop."""
    if dsn is None:
        yield f"sqlite://{workdir / 'bench.sqlite3'}?_fk=true"
        return
    url = urllib.parse.urlsplit(dsn)
    name = url.path.lstrip("/")
    if not re.fullmatch(r"\w+", name):
        raise SystemExit(f"--dsn must name a plain database (letters, digits, _), got {name!r}")
    maintenance = urllib.parse.urlunsplit(url._replace(path="/postgres", query=""))
    _psql(maintenance, f"DROP DATABASE IF EXISTS {name}")
    _psql(maintenance, f"CREATE DATABASE {name}")
    try:
        yield dsn
    finally:
        _psql(maintenance, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _psql(dsn: str, sql: str) -> None:
    quiet = {**os.environ, "PGOPTIONS": "-c client_min_messages=warning"}  # no "does not exist, skipping"
    subprocess.run(["psql", dsn, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, env=quiet)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_config(path: Path, dsn: str, public_port: int, admin_port: int) -> None:
    """tests/kratos.test.yml's settings (written as JSON, which Kratos reads too) with our DSN and ports."""
    schema = REPO / "tests" / "schemas" / "email-password.schema.json"
    config = {
        "dsn": dsn,
        "dev": True,
        "serve": {
            "public": {"host": "127.0.0.1", "port": public_port, "base_url": f"http://127.0.0.1:{public_port}/"},
            "admin": {"host": "127.0.0.1", "port": admin_port, "base_url": f"http://127.0.0.1:{admin_port}/"},
        },
        "selfservice": {"default_browser_return_url": "http://127.0.0.1:4455/"},
        "identity": {"default_schema_id": "default", "schemas": [{"id": "default", "url": schema.as_uri()}]},
        "hashers": {"algorithm": "bcrypt", "bcrypt": {"cost": 4}},
        "secrets": {"cookie": ["bench-cookie-secret-0123456789abcdef"],
                    "cipher": ["0123456789abcdef0123456789abcdef"]},
    }
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")


def server_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in _FOREIGN_ENV}


def manage(config: Path, *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args, "--config", str(config)],
                   cwd=REPO, env=server_env(), check=True, stdout=subprocess.DEVNULL)


@contextmanager
def server(config: Path, admin_url: str, log: Path) -> Iterator[None]:
    """`manage.py serve` until the block ends; SIGTERM stops it and its two gunicorn masters."""
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "manage.py", "serve", "--config", str(config)],
                                   cwd=REPO, env=server_env(), stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        wait_ready(admin_url, process)
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: only the processes we started
            process.wait()


def wait_ready(admin_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with code {process.returncode} before it was ready")
        try:
            if request("GET", admin_url + "health/ready")[0] == 200:
                return
        except OSError:
            pass  # not listening yet
        time.sleep(0.2)
    raise SystemExit(f"the server was not ready within {READY_TIMEOUT_SECONDS} s")


# --- HTTP ------------------------------------------------------------------------------------


def request(method: str, url: str, body: Any = None) -> tuple[int, Any, bytes]:
    data = None if body is None else json.dumps(body).encode()
    outgoing = urllib.request.Request(url, data=data, method=method,
                                      headers={"Content-Type": "application/json", "Accept": "application/json"})
    with urllib.request.urlopen(outgoing, timeout=REQUEST_TIMEOUT_SECONDS) as response:  # noqa: S310 (loopback)
        return response.status, response.headers, response.read()


def median_seconds(url: str, samples: int) -> float:
    for _ in range(WARMUP_REQUESTS):  # first requests pay for connections and imports in each worker
        request("GET", url)
    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        request("GET", url)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


# --- the phases ------------------------------------------------------------------------------


def import_identities(admin_url: str, count: int, hashed_password: str) -> float:
    """Phase 1: `count` identities through the batch API; returns identities per second."""
    started = time.perf_counter()
    for first in range(0, count, BATCH_SIZE):
        items = [{"create": {"schema_id": "default", "traits": {"email": f"bench-{n}@example.org"},
                             "credentials": {"password": {"config": {"hashed_password": hashed_password}}}}}
                 for n in range(first, min(first + BATCH_SIZE, count))]
        _, _, raw = request("PATCH", admin_url + "admin/identities", {"identities": items})
        failed = [r for r in json.loads(raw)["identities"] if r["action"] != "create"]
        if failed:
            raise SystemExit(f"{len(failed)} identities of a batch failed, first: {failed[0]}")
    return count / (time.perf_counter() - started)


def list_identities(admin_url: str, count: int) -> tuple[float, float, list[str]]:
    """Phase 2: every page via `Link: rel="next"`; returns identities/s, pages/s and the next tokens."""
    url: str | None = f"{admin_url}admin/identities?page_size={PAGE_SIZE}"
    seen: set[str] = set()
    tokens: list[str] = []
    pages = 0
    started = time.perf_counter()
    while url is not None and pages <= count // PAGE_SIZE + 1:  # bounded even if the server loops
        _, headers, raw = request("GET", url)
        pages += 1
        for identity in json.loads(raw):
            if identity["id"] in seen:
                raise SystemExit(f"identity {identity['id']} appeared twice while paging")
            seen.add(identity["id"])
        match = NEXT_LINK.search(headers.get("Link", ""))
        url = urllib.parse.urljoin(admin_url, match.group(1)) if match else None
        if match:
            tokens.append(urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["page_token"][0])
    elapsed = time.perf_counter() - started
    if len(seen) != count or url is not None:
        raise SystemExit(f"paging saw {len(seen)} identities in {pages} pages, expected {count}")
    return count / elapsed, pages / elapsed, tokens


def grow_table(target: int, hashed_password: str) -> None:
    """Runs inside `manage.py shell`: bulk-insert identities, shaped as the import writes them, up to `target`.

    Each gets a password credential, its identifier, and a verifiable and a recovery address, so a
    listed page prefetches as much as a page of imported identities. ANALYZE afterwards stands in for
    the autovacuum that would have seen these rows arrive in a live installation.
    """
    from django.db import connection, transaction

    from identities.models import (
        CredentialIdentifier,
        Identity,
        IdentityCredential,
        RecoveryAddress,
        VerifiableAddress,
    )
    from kratos_project import clock
    from kratos_project.tenancy import bind_network, default_nid

    with bind_network(default_nid()) as nid:
        start = Identity.objects.count()
        for first in range(start, target, GROW_CHUNK):
            now = clock.now()
            emails = [f"bench-grown-{n}@example.org" for n in range(first, min(first + GROW_CHUNK, target))]
            identities = [Identity(nid_id=nid, schema_id="default", traits={"email": e}, state_changed_at=now)
                          for e in emails]
            credentials = [IdentityCredential(nid_id=nid, identity=i, type="password",
                                              config={"hashed_password": hashed_password}) for i in identities]
            with transaction.atomic():
                Identity.objects.bulk_create(identities, batch_size=1000)
                IdentityCredential.objects.bulk_create(credentials, batch_size=1000)
                CredentialIdentifier.objects.bulk_create(
                    (CredentialIdentifier(nid_id=nid, credential=c, type="password", identifier=e)
                     for c, e in zip(credentials, emails)), batch_size=1000)
                VerifiableAddress.objects.bulk_create(
                    (VerifiableAddress(nid_id=nid, identity=i, via="email", value=e)
                     for i, e in zip(identities, emails)), batch_size=1000)
                RecoveryAddress.objects.bulk_create(
                    (RecoveryAddress(nid_id=nid, identity=i, via="email", value=e)
                     for i, e in zip(identities, emails)), batch_size=1000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def table_size(admin_url: str) -> int:
    """The identity count, from the legacy pagination's X-Total-Count header."""
    _, headers, _ = request("GET", f"{admin_url}admin/identities?page=0&per_page=1")
    return int(headers["X-Total-Count"])


def grow(config: Path, target: int, hashed_password: str) -> float:
    started = time.perf_counter()
    code = f"import bench.identities as b; b.grow_table({target}, {hashed_password!r})"
    manage(config, "shell", "--command", code)  # not -c: manage.py reads -c as --config
    return time.perf_counter() - started


# --- main ------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="identities imported and listed")
    parser.add_argument("--large", type=int, default=100_000, help="table size for the second page measurement")
    parser.add_argument("--dsn", help="PostgreSQL DSN of a database to create and drop (default: temp SQLite)")
    args = parser.parse_args()
    # SIGTERM (kill, a CI timeout) unwinds like Ctrl-C does, so the server and database are cleaned up.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if not 0 < args.count <= args.large:
        parser.error("need 0 < --count <= --large")
    hashed_password = bcrypt.hashpw(b"bench-password", bcrypt.gensalt(BCRYPT_COST)).decode()

    with tempfile.TemporaryDirectory(prefix="kratos-bench-") as tmp, database(args.dsn, Path(tmp)) as dsn:
        workdir = Path(tmp)
        config = workdir / "kratos.json"
        admin_port = free_port()
        write_config(config, dsn, free_port(), admin_port)
        admin_url = f"http://127.0.0.1:{admin_port}/"
        backend = "PostgreSQL" if args.dsn else "SQLite"
        print(f"backend: {backend}; count {args.count}; large {args.large}; {os.cpu_count()} cores; "
              f"load average {os.getloadavg()[0]:.2f}")
        manage(config, "migrate", "--no-input")
        try:
            with server(config, admin_url, workdir / "server.log"):
                run_phases(config, admin_url, args.count, args.large, hashed_password)
            print(f"done; load average {os.getloadavg()[0]:.2f} (other processes on the machine skew the figures)")
        except BaseException:
            print("server log (last lines):", *(workdir / "server.log").read_text().splitlines()[-20:], sep="\n  ")
            raise


def run_phases(config: Path, admin_url: str, count: int, large: int, hashed_password: str) -> None:
    rate = import_identities(admin_url, count, hashed_password)
    print(f"phase 1  import  {count} identities via PATCH /admin/identities ({BATCH_SIZE}/request): "
          f"{rate:,.0f} identities/s")

    identities_per_s, pages_per_s, tokens = list_identities(admin_url, count)
    print(f"phase 2  list    {count} identities, page_size={PAGE_SIZE}: "
          f"{identities_per_s:,.0f} identities/s, {pages_per_s:,.1f} pages/s (each id seen once)")

    # The next token of the middle page: an id from the middle of the key space. uuid4 keys spread
    # evenly, so it stays in the middle once the table has grown.
    page_url = f"{admin_url}admin/identities?page_size={PAGE_SIZE}&page_token={tokens[len(tokens) // 2]}"
    alive = median_seconds(admin_url + "health/alive", ALIVE_SAMPLES)
    small = median_seconds(page_url, PAGE_SAMPLES)
    seconds = grow(config, large, hashed_password)
    if (size := table_size(admin_url)) != large:
        raise SystemExit(f"growing the table left {size} identities, expected {large}")
    print(f"phase 3  grew the table to {large} identities with bulk_create in {seconds:.1f} s")
    big = median_seconds(page_url, PAGE_SAMPLES)
    alive_after = median_seconds(admin_url + "health/alive", ALIVE_SAMPLES)
    print(f"phase 3  baseline GET /health/alive median: {alive * 1000:.2f} ms (after growth {alive_after * 1000:.2f} ms)")
    print(f"phase 3  one mid-table page of {PAGE_SIZE}: {small * 1000:.1f} ms at {count} identities "
          f"({small / alive:.1f}x alive), {big * 1000:.1f} ms at {large} ({big / alive_after:.1f}x alive); "
          f"ratio large/small {big / small:.2f}")


if __name__ == "__main__":
    main()
