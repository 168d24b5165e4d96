"""The command line as an operator meets it: real processes, real files, real ports."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    """The environment of a fresh shell: no test settings, no configuration, no DSN."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DSN", "KRATOS_CONFIG", "KRATOS_DEV", "DJANGO_SETTINGS_MODULE") and not k.startswith("SERVE_")}
    return {**env, **extra}


def _manage(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    public, admin = _free_port(), _free_port()
    env = _env(SERVE_PUBLIC_PORT=str(public), SERVE_ADMIN_PORT=str(admin))
    assert _manage("migrate", "--dev", cwd=tmp_path, env=env).returncode == 0

    server = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "serve", "--dev", "--workers", "1"],
                              cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = _get_json(f"http://127.0.0.1:{admin}/health/ready")
                schema = _get_json(f"http://127.0.0.1:{public}/schemas/default")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.3)
    finally:
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=30)

    assert ready == {"status": "ok"}
    assert schema["properties"]["traits"]["properties"]["email"]["ory.sh/kratos"]["credentials"]["password"]["identifier"]
    assert (tmp_path / "kratos.sqlite3").exists()
    assert "generated" in err.lower() and "secret" in err.lower()
    assert server.returncode == 0, err[-2000:]


def test_short_config_flag_only_before_the_subcommand(tmp_path):
    config = str(ROOT / "tests" / "kratos.test.yml")

    before = _manage("-c", config, "check", cwd=ROOT, env=_env())
    after = _manage("shell", "-c", "print('shell ran')", cwd=ROOT, env=_env(KRATOS_CONFIG=config))

    assert before.returncode == 0, before.stderr
    assert after.returncode == 0 and "shell ran" in after.stdout
