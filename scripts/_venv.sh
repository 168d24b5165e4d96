# Sourced by scripts/serve and scripts/test: `ensure_venv SPEC` gives the repository a .venv with
# `pip install -e SPEC` done, skipping pip when pyproject.toml and SPEC are unchanged since the last
# install (a stamp file keyed on both), so re-runs start in about a second.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

ensure_venv() {
    local spec="$1" python="${PYTHON:-}"
    if [[ ! -x "$VENV/bin/python" ]]; then
        if [[ -z "$python" ]]; then
            python="$(command -v python3.11 || command -v python3)" || { echo "error: python3.11 not found" >&2; return 1; }
        fi
        echo "creating $VENV with $python" >&2
        "$python" -m venv "$VENV"
    fi
    local key stamp
    key="$( { sha256sum "$ROOT/pyproject.toml"; echo "$spec"; } | sha256sum | cut -c1-16)"
    stamp="$VENV/.installed-$key"
    if [[ ! -e "$stamp" ]]; then
        echo "installing .$spec into .venv" >&2
        "$VENV/bin/python" -m pip install -qq --disable-pip-version-check -e "$ROOT$spec"
        touch "$stamp"
    fi
    export PATH="$VENV/bin:$PATH"
}
