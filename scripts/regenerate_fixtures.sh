#!/usr/bin/env bash
# Regenerate every R reference fixture: runs each fixtures/R/*.R script (except the shared
# helpers in common.R) with Rscript, in C-locale name order, so that data producers named
# 00_*.R run before the scripts that read their output. Each script writes to its default
# directory under fixtures/ (see the header of each script); stops at the first failure.
#
# Usage: scripts/regenerate_fixtures.sh          (from anywhere; needs Rscript with lme4)
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
echo "regenerate_fixtures: ran ${#scripts[@]} script(s)"
