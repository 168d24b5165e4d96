"""Benchmark of the session check and the password login against the real server, each with a baseline.

    .venv/bin/python bench/sessions.py [--seconds 5] [--rounds 3] [--concurrency 8] [--logins 40]
                                       [--dsn postgres://…/kratos_bench]

The script owns everything it touches, as bench/identities.py does (whose helpers it reuses): a
temporary SQLite file (or, with `--dsn`, a PostgreSQL database it creates and drops), a temporary
Kratos config with free loopback ports, `manage.py migrate`, and `manage.py serve` (two gunicorn
masters, 2 workers x 4 threads each) as a subprocess, stopped with SIGTERM at the end even on errors.
The config is bench/identities.py's with the product's default hasher: argon2id with Kratos's
default parameters (128 MB, 1 iteration, parallelism 2 x cores).

1. whoami: `GET /sessions/whoami` with `X-Session-Token` against `GET /__bench/lookup`, a bare
   Django view doing one indexed lookup by the same token (kratos_project/bench_baseline.py, mounted
   because the server runs with KRATOS_BENCH_BASELINE=1). Same server, same run: `--rounds` rounds
   of `--seconds` each, the two endpoints alternating (ABBA) so drift in the machine's load hits
   both alike. The load comes from `--concurrency` threads, each with its own keep-alive connection
   and its own session. Reported: requests/s, p50/p99 latency, the ratio whoami/bare (target >= 0.8).
2. login: the p50 of `POST /self-service/login?flow=` (native flow, password) against the p50 of
   one raw argon2id verify (argon2-cffi) of the very hash the server verifies, measured in this
   process; only the submit is timed (the flow is created before). Samples alternate between the
   two. Reported: both p50s and their ratio (target <= 1.15).

The load comes from the standard library (`http.client`, threads), so nothing needs installing;
the argon2 parameters come from the product's config loader. All traffic goes to 127.0.0.1.
"""
from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, sys.path[0] is bench/, where identities.py would shadow the `identities` app that
# the config loader imports; the repository root takes its place.
REPO = Path(__file__).resolve().parent.parent
sys.path[0] = str(REPO)

import argparse  # noqa: E402
import datetime  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

from argon2.low_level import Type, hash_secret, verify_secret  # noqa: E402

from bench.identities import database, free_port, manage, server, server_env, write_config  # noqa: E402
from identities.hashing import Argon2Params  # noqa: E402
from kratos_project.config import load_config  # noqa: E402

WHOAMI = "/sessions/whoami"
BARE = "/__bench/lookup"
# kratos_project.bench_baseline.ENV_VAR; not imported, since that module needs Django set up.
BASELINE_SWITCH = "KRATOS_BENCH_BASELINE"
PASSWORD = "correct horse battery staple 42"  # noqa: S105 (a benchmark identity's password)
WARMUP_REQUESTS = 20  # per connection: imports, DB connections and caches in every worker thread
WARMUP_LOGINS = 3
REQUEST_TIMEOUT_SECONDS = 60
WHOAMI_TARGET = 0.8
LOGIN_TARGET = 1.15


# --- setup -------------------------------------------------------------------------------------


def bench_config(path: Path, dsn: str, public_port: int, admin_port: int) -> Argon2Params:
    """bench/identities.py's config with the product's default hasher; returns the argon2 parameters
    the config loader derives from it and the server's environment: those the server verifies with."""
    write_config(path, dsn, public_port, admin_port)
    config = json.loads(path.read_text(encoding="utf-8"))
    config["hashers"] = {"algorithm": "argon2"}  # every argon2 key at Kratos's default
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return load_config(str(path), server_env()).hashers.argon2


def argon2id_hash(password: str, params: Argon2Params) -> str:
    """A PHC-format argon2id hash with the configured parameters, as the product writes it."""
    return hash_secret(password.encode(), secrets.token_bytes(params.salt_length), time_cost=params.iterations,
                       memory_cost=params.memory_kib, parallelism=params.parallelism, hash_len=params.key_length,
                       type=Type.ID).decode()


class Client:
    """One keep-alive HTTP/1.1 connection to a loopback port; JSON in, status and JSON out."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_SECONDS)

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        self.connection.request(method, path, body=data, headers={
            "Accept": "application/json", **({"Content-Type": "application/json"} if data else {}), **(headers or {})})
        response = self.connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None

    def close(self) -> None:
        self.connection.close()


def create_identity(admin: Client, email: str, hashed_password: str) -> None:
    """Imported with the hash computed here, so the server verifies exactly the hash this process does."""
    status, body = admin.call("POST", "/admin/identities", {
        "schema_id": "default", "traits": {"email": email},
        "credentials": {"password": {"config": {"hashed_password": hashed_password}}}})
    if status != 201:
        raise SystemExit(f"creating {email} failed with {status}: {body}")


def start_login(public: Client) -> str:
    status, flow = public.call("GET", "/self-service/login/api")
    if status != 200:
        raise SystemExit(f"GET /self-service/login/api answered {status}: {flow}")
    return flow["id"]


def submit_login(public: Client, flow_id: str, email: str) -> str:
    status, body = public.call("POST", f"/self-service/login?flow={flow_id}",
                               {"method": "password", "identifier": email, "password": PASSWORD})
    if status != 200 or not body.get("session_token"):
        raise SystemExit(f"the login of {email} answered {status}: {body}")
    return body["session_token"]


# --- phase 1: throughput -----------------------------------------------------------------------


@dataclass
class Load:
    """Requests completed by all threads in one or more rounds, with each request's latency."""

    requests: int = 0
    seconds: float = 0.0
    client_cpu_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    def add(self, other: Load) -> None:
        self.requests += other.requests
        self.seconds += other.seconds
        self.client_cpu_seconds += other.client_cpu_seconds
        self.latencies += other.latencies

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1]


def load(port: int, path: str, tokens: list[str], seconds: float) -> Load:
    """One thread per token, each on its own connection, sending `GET path` back to back for `seconds`.

    Every answer must be a 200 (a wrong token would make the bare view fast and the figures
    meaningless). The clock starts when all threads have warmed up and ends with the last answer.
    """
    deadline: list[float] = []  # set once, by the barrier's action, before any thread is released
    ready = threading.Barrier(len(tokens) + 1, action=lambda: deadline.append(time.perf_counter() + seconds))
    results: list[tuple[float, float, list[float]]] = []
    failures: list[str] = []

    def worker(token: str) -> None:
        client = Client(port)
        headers = {"X-Session-Token": token}
        latencies: list[float] = []
        try:
            for _ in range(WARMUP_REQUESTS):
                expect_ok(client.call("GET", path, headers=headers), path)
            ready.wait()
            started = time.perf_counter()
            while (now := time.perf_counter()) < deadline[0]:
                expect_ok(client.call("GET", path, headers=headers), path)
                latencies.append(time.perf_counter() - now)
            results.append((started, time.perf_counter(), latencies))
        except Exception as error:  # noqa: BLE001 (reported below, in the main thread)
            failures.append(f"{type(error).__name__}: {error}")
            ready.abort()
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    try:
        ready.wait()
    except threading.BrokenBarrierError:
        pass  # a worker failed during warm-up; its error is reported below
    cpu_before = time.process_time()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{path}: {len(failures)} client threads failed, first: {failures[0]}")
    elapsed = max(end for _, end, _ in results) - min(start for start, _, _ in results)
    latencies = [latency for _, _, thread_latencies in results for latency in thread_latencies]
    return Load(len(latencies), elapsed, time.process_time() - cpu_before, latencies)


def expect_ok(answer: tuple[int, Any], path: str) -> None:
    status, body = answer
    if status != 200 or not body.get("id"):
        raise RuntimeError(f"{path} answered {status}: {body}")


def measure_whoami(port: int, tokens: list[str], seconds: float, rounds: int) -> dict[str, Load]:
    totals = {BARE: Load(), WHOAMI: Load()}
    for round_number in range(rounds):
        order = (BARE, WHOAMI) if round_number % 2 == 0 else (WHOAMI, BARE)
        for path in order:
            totals[path].add(load(port, path, tokens, seconds))
    return totals


# --- phase 2: login latency --------------------------------------------------------------------


def measure_login(public_port: int, email: str, hashed_password: str, samples: int) -> tuple[list[float], list[float]]:
    """Alternating samples: one timed login submit (flow created untimed before), one raw verify."""
    public = Client(public_port)
    logins: list[float] = []
    verifies: list[float] = []
    try:
        for sample in range(-WARMUP_LOGINS, samples):  # the first logins warm each worker (dummy hash, schemas)
            flow_id = start_login(public)
            started = time.perf_counter()
            submit_login(public, flow_id, email)
            login_seconds = time.perf_counter() - started
            started = time.perf_counter()
            verify_secret(hashed_password.encode(), PASSWORD.encode(), Type.ID)
            verify_seconds = time.perf_counter() - started
            if sample >= 0:
                logins.append(login_seconds)
                verifies.append(verify_seconds)
    finally:
        public.close()
    return logins, verifies


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one load round per endpoint")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per endpoint, alternating")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (= sessions, connections)")
    parser.add_argument("--logins", type=int, default=40, help="timed login samples (and raw verifies)")
    parser.add_argument("--dsn", help="PostgreSQL DSN of a database to create and drop (default: temp SQLite)")
    args = parser.parse_args()
    # SIGTERM (kill, a CI timeout) unwinds like Ctrl-C does, so the server and database are cleaned up.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    if args.seconds <= 0 or args.rounds < 1 or args.concurrency < 1 or args.logins < 2:
        parser.error("need --seconds > 0, --rounds >= 1, --concurrency >= 1, --logins >= 2")
    os.environ[BASELINE_SWITCH] = "1"  # inherited by the server (bench.identities.server_env passes it on)

    with tempfile.TemporaryDirectory(prefix="kratos-bench-") as tmp, database(args.dsn, Path(tmp)) as dsn:
        workdir = Path(tmp)
        config = workdir / "kratos.json"
        public_port, admin_port = free_port(), free_port()
        params = bench_config(config, dsn, public_port, admin_port)
        backend = "PostgreSQL" if args.dsn else "SQLite"
        print(f"{datetime.date.today()} {platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}; "
              f"backend {backend}; load average {os.getloadavg()[0]:.2f}")
        print(f"argon2id m={params.memory_kib} KiB, t={params.iterations}, p={params.parallelism}, "
              f"key {params.key_length} B, salt {params.salt_length} B")
        manage(config, "migrate", "--no-input")
        try:
            with server(config, f"http://127.0.0.1:{admin_port}/", workdir / "server.log"):
                run_phases(args, public_port, admin_port, params)
            print(f"done; load average {os.getloadavg()[0]:.2f} (other processes on the machine skew the figures)")
        except BaseException:
            print("server log (last lines):", *(workdir / "server.log").read_text().splitlines()[-20:], sep="\n  ")
            raise


def run_phases(args: argparse.Namespace, public_port: int, admin_port: int, params: Argon2Params) -> None:
    hashed_password = argon2id_hash(PASSWORD, params)
    admin, public = Client(admin_port), Client(public_port)
    emails = [f"bench-{n}@example.org" for n in range(args.concurrency)]
    try:
        for email in emails:
            create_identity(admin, email, hashed_password)
        tokens = [submit_login(public, start_login(public), email) for email in emails]
    finally:
        admin.close()
        public.close()

    totals = measure_whoami(public_port, tokens, args.seconds, args.rounds)
    bare, whoami = totals[BARE], totals[WHOAMI]
    for label, result in (("bare view", bare), ("whoami   ", whoami)):
        print(f"phase 1  {label} {result.rate:8,.0f} req/s  p50 {result.percentile(50) * 1000:6.2f} ms  "
              f"p99 {result.percentile(99) * 1000:6.2f} ms  ({result.requests} requests in {result.seconds:.1f} s, "
              f"client CPU {result.client_cpu_seconds / result.seconds:.0%} of one core)")
    ratio = whoami.rate / bare.rate
    verdict = "meets" if ratio >= WHOAMI_TARGET else "MISSES"
    print(f"phase 1  whoami/bare throughput {ratio:.2f} ({verdict} the {WHOAMI_TARGET} target); "
          f"{args.concurrency} connections, {args.rounds} x {args.seconds:g} s per endpoint")

    logins, verifies = measure_login(public_port, emails[0], hashed_password, args.logins)
    login_p50, verify_p50 = statistics.median(logins), statistics.median(verifies)
    ratio = login_p50 / verify_p50
    verdict = "meets" if ratio <= LOGIN_TARGET else "MISSES"
    print(f"phase 2  login submit p50 {login_p50 * 1000:.1f} ms (min {min(logins) * 1000:.1f}, "
          f"max {max(logins) * 1000:.1f}); raw argon2id verify p50 {verify_p50 * 1000:.1f} ms "
          f"(min {min(verifies) * 1000:.1f}, max {max(verifies) * 1000:.1f}); {len(logins)} samples each")
    print(f"phase 2  login/verify {ratio:.2f} ({verdict} the {LOGIN_TARGET} target)")


if __name__ == "__main__":
    main()
