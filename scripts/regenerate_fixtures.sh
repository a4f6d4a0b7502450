#!/usr/bin/env bash
# Regenerate every R reference fixture: runs each fixtures/R/*.R script (except the shared
# helpers in common.R) with Rscript, in C-locale name order, so that data producers named
# 00_*.R run before the scripts that read their output. Each script writes to its default
# directory under fixtures/ (see the header of each script); stops at the first failure.
#
# Then re-records the parity corpus (fixtures/parity), which runs each case in R through rpy2.
# A case whose R package is missing and which declares recorded reference outputs (the coxme
# cases: coxme is not packaged for Debian) is not run in R: the command prints "skipped <id> in
# R (...)" and rewrites its record from fixtures/coxme/coxme_reference.json instead of failing.
#
# Usage: scripts/regenerate_fixtures.sh          (from anywhere; needs Rscript with lme4, and rpy2)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if ! command -v Rscript >/dev/null 2>&1; then
    echo "regenerate_fixtures: Rscript not found on PATH" >&2
    exit 1
fi

mapfile -t scripts < <(LC_ALL=C ls fixtures/R/*.R | grep -v '/common\.R$')
for script in "${scripts[@]}"; do
    echo "==> Rscript $script"
    Rscript "$script"
done
echo "==> parity corpus (coxme cases are converted from their reference outputs without coxme)"
python="${PYTHON:-python3}"
[ -x .venv/bin/python ] && python=.venv/bin/python
"$python" -m interlace.parity.corpus fixtures/parity/corpus.json --freeze
echo "regenerate_fixtures: ran ${#scripts[@]} R script(s) and the parity corpus"
