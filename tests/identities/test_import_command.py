"""`manage.py import_identities`: input formats, per-record failures, all-or-nothing parsing, progress."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import pytest
from django.core.management import CommandError, call_command
from django.core.management.base import OutputWrapper

from identities.hashing import verify_password
from kratos_project.progress import ProgressBar

REPO = Path(__file__).resolve().parents[2]
CONFLICT = "This identity conflicts with another identity that already exists."


@dataclass
class Run:
    out: str
    err: str
    error: CommandError | None  # what makes `manage.py` exit with 1


def run_import(source: str, *args: str, stdin: str | None = None, **options: Any) -> Run:
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    try:
        call_command("import_identities", source, *args, stdout=out, stderr=err, **options)
    except CommandError as error:
        return Run(out.getvalue(), err.getvalue(), error)
    return Run(out.getvalue(), err.getvalue(), None)


def body(email: str, **fields: Any) -> dict[str, Any]:
    return {"schema_id": "default", "traits": {"email": email}, **fields}


def ndjson(*bodies: Any) -> str:
    return "".join(json.dumps(b) + "\n" for b in bodies)


def stored_emails(admin_api: Any) -> list[str]:
    return sorted(i["traits"]["email"] for i in admin_api.call("GET", "/admin/identities").json())


def test_json_array_imports_every_body_and_prints_only_the_summary(admin_api, tmp_path):
    path = tmp_path / "identities.json"
    path.write_text(json.dumps([body("ada@example.org"), body("grace@example.org", state="inactive"),
                                body("linus@example.org", metadata_public={"plan": "pro"})], indent=2))

    run = run_import(str(path))

    assert run == Run("imported 3, failed 0\n", "", None)  # stderr is no terminal: no progress bar
    identities = {i["traits"]["email"]: i for i in admin_api.call("GET", "/admin/identities").json()}
    assert sorted(identities) == ["ada@example.org", "grace@example.org", "linus@example.org"]
    assert identities["grace@example.org"]["state"] == "inactive"
    assert identities["linus@example.org"]["metadata_public"] == {"plan": "pro"}
    assert [a["value"] for a in identities["ada@example.org"]["verifiable_addresses"]] == ["ada@example.org"]


def test_ndjson_from_stdin_skips_blank_lines(admin_api):
    text = "\n" + ndjson(body("ada@example.org")) + "  \n\r\n" + ndjson(body("grace@example.org"))

    run = run_import("-", stdin=text)

    assert run == Run("imported 2, failed 0\n", "", None)
    assert stored_emails(admin_api) == ["ada@example.org", "grace@example.org"]


def test_a_single_pretty_printed_object_is_one_record(admin_api, tmp_path):
    path = tmp_path / "ada.json"
    path.write_text("\ufeff" + json.dumps(body("ada@example.org"), indent=4))  # Windows editors add a BOM

    run = run_import(str(path))

    assert run == Run("imported 1, failed 0\n", "", None)
    assert stored_emails(admin_api) == ["ada@example.org"]


def test_imported_bcrypt_hash_is_stored_as_given_and_verifies(admin_api):
    hashed = bcrypt.hashpw(b"correct horse battery staple", bcrypt.gensalt(rounds=4)).decode()
    text = ndjson(body("ada@example.org", credentials={"password": {"config": {"hashed_password": hashed}}}))

    run = run_import("-", stdin=text, verbosity=2)

    identity_id, summary = run.out.splitlines()  # verbosity 2 lists the new identity ids
    assert summary == "imported 1, failed 0"
    identity = admin_api.call("GET", f"/admin/identities/{identity_id}?include_credential=password").json()
    password = identity["credentials"]["password"]
    assert password["identifiers"] == ["ada@example.org"]
    assert password["config"] == {"hashed_password": hashed}
    assert verify_password("correct horse battery staple", password["config"]["hashed_password"])
    assert not verify_password("correct horse battery stapler", password["config"]["hashed_password"])


@pytest.mark.parametrize("batch_size", ["1", "500"])  # conflict with a committed batch / inside one batch
def test_duplicate_identifier_fails_that_record_and_the_others_are_imported(admin_api, batch_size):
    text = ndjson(body("ada@example.org"), body("grace@example.org"), body(" ADA@example.org"),
                  body("linus@example.org"))

    run = run_import("-", f"--batch-size={batch_size}", stdin=text)

    assert (run.out, run.err) == ("imported 3, failed 1\n", f"record 3 (line 3): {CONFLICT}\n")
    assert str(run.error) == "1 of 4 identities were not imported"
    assert stored_emails(admin_api) == ["ada@example.org", "grace@example.org", "linus@example.org"]


def test_invalid_bodies_are_reported_with_record_and_line(admin_api):
    text = "[\n" + ",\n".join([
        json.dumps(body("ada@example.org")),
        '{"schema_id": "default",\n "traits": {"email": "lin@example.org"}, "credentials": {"totp": {}}}',
        json.dumps(body("not-an-email")),
        "42",
        json.dumps(body("grace@example.org")),
    ]) + "\n]"

    run = run_import("-", stdin=text)

    assert run.err.splitlines() == [
        'record 2 (line 3): json: unknown field "totp"',
        "record 3 (line 5): I[#/traits/email] 'not-an-email' is not a 'email'",
        "record 4 (line 6): The request body must be a JSON object.",
    ]
    assert run.out == "imported 2, failed 3\n" and run.error is not None
    assert stored_emails(admin_api) == ["ada@example.org", "grace@example.org"]


@pytest.mark.parametrize(("text", "expected"), [
    (ndjson(body("ada@example.org"), body("grace@example.org")) + '{"traits": {"email": "x@example.org"}\n'
     + ndjson(body("linus@example.org")),
     "invalid JSON on line 3, column 38: Expecting ',' delimiter"),
    ("[\n" + json.dumps(body("ada@example.org")) + ",\n" + json.dumps(body("grace@example.org")) + "\n"
     + json.dumps(body("linus@example.org")) + "\n]",
     "invalid JSON on line 4, column 1: Expecting ',' delimiter"),
    ('{\n  "schema_id": "default",\n  "traits": {"email": "ada@example.org"},\n}\n',
     "invalid JSON on line 4, column 1: Expecting property name enclosed in double quotes"),
], ids=["ndjson", "array", "object"])
def test_malformed_input_names_the_line_and_imports_nothing(admin_api, text, expected):
    run = run_import("-", "--batch-size=1", stdin=text)

    assert str(run.error) == f"{expected}; nothing was imported"
    assert (run.out, run.err) == ("", "")
    assert stored_emails(admin_api) == []


def test_batch_size_is_limited_to_the_batch_endpoint_maximum(db):
    run = run_import("-", "--batch-size=1001", stdin=ndjson(body("ada@example.org")))

    assert "--batch-size: must be a whole number from 1 to 1000, not '1001'" in str(run.error)


def test_forced_progress_draws_one_updating_line_per_batch(admin_api):
    text = ndjson(*(body(f"user{n}@example.org") for n in range(3)))

    run = run_import("-", "--batch-size=2", "--progress=always", stdin=text)

    assert run.out == "imported 3, failed 0\n"
    frames = run.err.split("\r")
    assert frames[0] == ""  # every frame starts at column 0
    assert frames[1].startswith("[------------------------] 0/3   0.0% 0.0 identities/s ETA -:--:--")
    assert frames[2].startswith("[################--------] 2/3  66.7% ") and " identities/s ETA " in frames[2]
    assert frames[3].startswith("[########################] 3/3 100.0% ") and len(frames) == 4
    assert run.err.endswith("ETA 0:00:00\n")  # the summary starts on its own line


def test_progress_bar_reports_rate_and_eta_and_clears_before_other_output():
    now = [100.0]
    stream = io.StringIO()
    bar = ProgressBar(OutputWrapper(stream), 1000, mode="always", unit="identities", clock=lambda: now[0])

    with bar:
        now[0] += 10
        bar.advance(250)
        assert bar.render() == "[######------------------] 250/1000  25.0% 25.0 identities/s ETA 0:00:30"
        bar.clear()

    drawn = "[######------------------] 250/1000  25.0% 25.0 identities/s ETA 0:00:30"
    assert stream.getvalue().endswith("\r" + drawn + "\r" + " " * len(drawn) + "\r")  # nothing left to end


def test_progress_bar_draws_nothing_off_a_terminal():
    stream = io.StringIO()

    with ProgressBar(OutputWrapper(stream), 10, mode="auto") as bar:
        bar.advance(10)

    assert stream.getvalue() == ""


def test_manage_py_exits_1_when_a_record_failed_and_0_otherwise(tmp_path):
    env = {**os.environ, "DSN": f"sqlite:///{tmp_path}/x.sqlite3", "DJANGO_SETTINGS_MODULE": "tests.settings",
           "KRATOS_CONFIG": str(REPO / "tests" / "kratos.test.yml")}

    def manage(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "manage.py", *args], input=stdin, env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=120)

    assert manage("migrate", "-v0").returncode == 0
    partial = manage("import_identities", "-", stdin=ndjson(body("ada@example.org"), body("ada@example.org")))
    clean = manage("import_identities", "-", stdin=ndjson(body("grace@example.org")))

    assert (partial.returncode, partial.stdout) == (1, "imported 1, failed 1\n")
    assert partial.stderr == f"record 2 (line 2): {CONFLICT}\nCommandError: 1 of 2 identities were not imported\n"
    assert (clean.returncode, clean.stdout, clean.stderr) == (0, "imported 1, failed 0\n", "")
