"""The command line as an operator meets it: real processes, real files, real ports."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.compat.conftest import bare_dev_server

ROOT = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    """The environment of a fresh shell: no test settings, no configuration, no DSN."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DSN", "KRATOS_CONFIG", "KRATOS_DEV", "DJANGO_SETTINGS_MODULE") and not k.startswith("SERVE_")}
    return {**env, **extra}


def _manage(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def _get_json(url: str) -> object:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_a_bad_config_value_stops_the_process_naming_the_key(tmp_path):
    config = tmp_path / "kratos.yml"
    config.write_text((ROOT / "tests" / "kratos.test.yml").read_text() + "\nlog:\n  level: loud\n")

    result = _manage("migrate", "--config", str(config), cwd=tmp_path, env=_env())

    assert result.returncode == 1
    assert 'config key "log.level"' in result.stderr and "Traceback" not in result.stderr


def test_a_missing_config_file_stops_the_process(tmp_path):
    result = _manage("check", "--config", str(tmp_path / "nope.yml"), cwd=tmp_path, env=_env())

    assert result.returncode == 1 and "nope.yml" in result.stderr


def test_serve_dev_without_config_runs_on_sqlite_in_the_working_directory(tmp_path):
    with bare_dev_server(tmp_path) as server:  # stops it, and fails unless it exits 0 on SIGTERM
        ready = _get_json(f"{server.admin_url}/health/ready")
        schema = _get_json(f"{server.public_url}/schemas/default")

    assert ready == {"status": "ok"}
    assert schema["properties"]["traits"]["properties"]["email"]["ory.sh/kratos"]["credentials"]["password"]["identifier"]
    assert (tmp_path / "kratos.sqlite3").exists()
    log = (tmp_path / "server.log").read_text().lower()
    assert "generated" in log and "secret" in log


def test_short_config_flag_only_before_the_subcommand(tmp_path):
    config = str(ROOT / "tests" / "kratos.test.yml")

    before = _manage("-c", config, "check", cwd=ROOT, env=_env())
    after = _manage("shell", "-c", "print('shell ran')", cwd=ROOT, env=_env(KRATOS_CONFIG=config))

    assert before.returncode == 0, before.stderr
    assert after.returncode == 0 and "shell ran" in after.stdout
