"""`manage.py import_identities`: input formats, per-record failures, all-or-nothing parsing, progress."""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
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


def body(email: str, **fields: Any) -> dict[str, Any]:
    return {"schema_id": "default", "traits": {"email": email}, **fields}


def ndjson(*bodies: Any) -> str:
    return "".join(json.dumps(b) + "\n" for b in bodies)


def run_import(source: str, *args: str, stdin: str | None = None, **options: Any) -> tuple[str, str]:
    """Run the command; return (stdout, stderr). Raises CommandError like the command does."""
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        options["stdin"] = io.StringIO(stdin)
    try:
        call_command("import_identities", source, *args, stdout=out, stderr=err, **options)
    except CommandError as error:
        error.output = (out.getvalue(), err.getvalue())  # type: ignore[attr-defined]
        raise
    return out.getvalue(), err.getvalue()


def stored_emails(admin_api: Any) -> list[str]:
    return sorted(i["traits"]["email"] for i in admin_api.call("GET", "/admin/identities").json())


def test_json_array_imports_every_body_and_prints_only_the_summary(admin_api, tmp_path):
    path = tmp_path / "identities.json"
    path.write_text(json.dumps([body("ada@example.org"), body("grace@example.org", state="inactive"),
                                body("linus@example.org", metadata_public={"plan": "pro"})], indent=2))

    out, err = run_import(str(path))

    assert out == "imported 3, failed 0\n"
    assert err == ""  # stderr is not a terminal: no progress bar
    identities = {i["traits"]["email"]: i for i in admin_api.call("GET", "/admin/identities").json()}
    assert sorted(identities) == ["ada@example.org", "grace@example.org", "linus@example.org"]
    assert identities["grace@example.org"]["state"] == "inactive"
    assert identities["linus@example.org"]["metadata_public"] == {"plan": "pro"}
    assert [a["value"] for a in identities["ada@example.org"]["verifiable_addresses"]] == ["ada@example.org"]


def test_ndjson_from_stdin_skips_blank_lines(admin_api):
    text = "\n" + ndjson(body("ada@example.org")) + "  \n\r\n" + ndjson(body("grace@example.org"))

    out, _ = run_import("-", stdin=text)

    assert out == "imported 2, failed 0\n"
    assert stored_emails(admin_api) == ["ada@example.org", "grace@example.org"]


def test_a_single_pretty_printed_object_is_one_record(admin_api, tmp_path):
    path = tmp_path / "ada.json"
    path.write_text("\ufeff" + json.dumps(body("ada@example.org"), indent=4))  # editors on Windows add a BOM

    out, _ = run_import(str(path))

    assert out == "imported 1, failed 0\n"
    assert stored_emails(admin_api) == ["ada@example.org"]


def test_imported_bcrypt_hash_is_stored_as_given_and_verifies(admin_api):
    hashed = bcrypt.hashpw(b"correct horse battery staple", bcrypt.gensalt(rounds=4)).decode()
    text = ndjson(body("ada@example.org", credentials={"password": {"config": {"hashed_password": hashed}}}))

    out, _ = run_import("-", stdin=text, verbosity=2)

    identity_id, summary = out.splitlines()
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

    with pytest.raises(CommandError, match="1 of 4 identities were not imported") as raised:
        run_import("-", f"--batch-size={batch_size}", stdin=text)

    out, err = raised.value.output  # type: ignore[attr-defined]
    assert out == "imported 3, failed 1\n"
    assert err == f"record 3 (line 3): {CONFLICT}\n"
    assert stored_emails(admin_api) == ["ada@example.org", "grace@example.org", "linus@example.org"]


def test_invalid_bodies_are_reported_with_record_and_line(admin_api):
    text = "[\n" + ",\n".join([
        json.dumps(body("ada@example.org")),
        '{"schema_id": "default",\n "traits": {"email": "ada@example.org"}, "credentials": {"totp": {}}}',
        json.dumps(body("not-an-email")),
        "42",
        json.dumps(body("grace@example.org")),
    ]) + "\n]"

    with pytest.raises(CommandError, match="3 of 5"):
        run_import("-", stdin=text)

    out, err = run_import_output_of_last_failure = None, None  # placeholder to satisfy linters
