#!/usr/bin/env bash
# Install what the tests need and run every check: ruff, ruff format, mypy, mkdocs, pytest.
#
# Usage (from anywhere):  bash scripts/test.sh [extra pytest arguments]
#
# * Uses the virtual environment .venv (created when missing, also on Debian without
#   python3-venv). If no venv can be made, it installs into the interpreter $PYTHON (python3).
# * Installs interlace editable with the `test` extra, plus the `r` extra (rpy2) when R is on
#   PATH. The install is skipped when pyproject.toml has not changed since the last one.
# * Runs all checks even when one fails, prints pytest's summary line last and exits non-zero
#   if anything failed.
# * INTERLACE_REQUIRE_R=1 (set by .ci/run) makes R-comparison tests fail instead of skip
#   when R or rpy2 is missing.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
VENV=${INTERLACE_VENV:-.venv}

say() { printf '==> %s\n' "$*" >&2; }

# --- 1. interpreter ---------------------------------------------------------------------------
# A venv with pip. Debian without python3-venv cannot run ensurepip: make the venv without pip
# and let the system's pip install pip into it.
venv_ready() {
    if [[ ! -x "$VENV/bin/python" ]]; then
        say "creating virtual environment $VENV"
        "$PYTHON" -m venv "$VENV" >/dev/null 2>&1 \
            || "$PYTHON" -m venv --without-pip "$VENV" >/dev/null 2>&1 \
            || return 1
    fi
    "$VENV/bin/python" -m pip --version >/dev/null 2>&1 && return 0
    "$PYTHON" -m pip --python "$VENV/bin/python" install --quiet pip >/dev/null 2>&1
}
if venv_ready; then
    PY="$VENV/bin/python"
else
    PY=$(command -v "$PYTHON")
    say "no usable venv; installing into $PY"
fi

# --- 2. install ---------------------------------------------------------------------------
extras="test"
if command -v R >/dev/null 2>&1; then
    extras="test,r"
fi
stamp_dir=$("$PY" -c 'import sys; print(sys.prefix)')
stamp="$stamp_dir/.interlace-test-install"
want="$(cksum < pyproject.toml) extras=$extras src=$PWD"
if [[ ! -f "$stamp" ]] || [[ "$(cat "$stamp")" != "$want" ]] \
    || ! "$PY" -c 'import importlib.metadata as m; m.version("interlace")' >/dev/null 2>&1; then
    say "installing interlace[$extras] (editable)"
    if ! "$PY" -m pip install --quiet --disable-pip-version-check -e ".[$extras]"; then
        say "FAILED: pip install -e .[$extras]"
        exit 1
    fi
    { echo "$want" > "$stamp"; } 2>/dev/null || true
fi

# Console scripts (ruff, mypy, mkdocs, interlace) live next to the interpreter.
PATH="$(dirname "$PY"):$PATH"
export PATH

# --- 3. static checks and docs ---------------------------------------------------------------
failed=()
check() {
    local name=$1
    shift
    say "$name: $*"
    if "$@"; then
        return 0
    fi
    failed+=("$name")
}

check "ruff" "$PY" -m ruff check --output-format=concise .
check "ruff-format" "$PY" -m ruff format --check .
check "mypy" "$PY" -m mypy
site_dir=$(mktemp -d)
check "mkdocs" "$PY" -m mkdocs build --strict --quiet --site-dir "$site_dir"
rm -rf "$site_dir"

if ((${#failed[@]})); then
    say "FAILED checks: ${failed[*]} (pytest runs anyway)"
else
    say "ruff, ruff format, mypy and mkdocs: all passed"
fi

# --- 4. tests (last, so that its summary line is the last line) ------------------------------
say "pytest"
"$PY" -m pytest -q "$@"
pytest_status=$?

if ((pytest_status != 0)); then
    exit "$pytest_status"
fi
if ((${#failed[@]})); then
    exit 1
fi
exit 0
