"""The formals in the translation tables are R's own (live R only)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from interlace.translate import mapping

# R function (package::name) -> the formals the tables use for it
TABLES = {
    "lme4::lmer": mapping.LMER.formals,
    "lme4::glmer": mapping.GLMER.formals,
    "glmmTMB::glmmTMB": mapping.GLMMTMB.formals,
    "ordinal::clmm": mapping.CLMM.formals,
    "nlme:::lme.formula": mapping.LME.formals,
    "lme4::lmerControl": mapping.CONTROL_FORMALS[: mapping.CONTROL_FORMALS.index("mod.type") + 1],
    "lme4::glmerControl": mapping.CONTROL_FORMALS,
    "nlme::corAR1": mapping.CORRELATIONS["corAR1"],
    "nlme::corCAR1": mapping.CORRELATIONS["corCAR1"],
    "nlme::corCompSymm": mapping.CORRELATIONS["corCompSymm"],
    "lme4:::predict.merMod": ("object", *mapping.ACCESSORS["predict"].formals),
    "lme4:::simulate.merMod": ("object", *mapping.ACCESSORS["simulate"].formals),
    "lme4:::confint.merMod": ("object", *mapping.ACCESSORS["confint"].formals),
    "lme4:::ranef.merMod": ("object", *mapping.ACCESSORS["ranef"].formals),
}


@pytest.mark.r
def test_formals_match_r() -> None:
    rscript = shutil.which("Rscript")
    assert rscript is not None
    code = "; ".join(
        f'cat("{name}", paste(names(formals({name})), collapse = ","), sep = "\\t"); cat("\\n")'
        for name in TABLES
    )
    done = subprocess.run(
        [rscript, "-e", f"suppressPackageStartupMessages({{{code}}})"],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    got = dict(line.split("\t") for line in done.stdout.strip().splitlines())
    for name, formals in TABLES.items():
        assert tuple(got[name].split(",")) == tuple(formals), name
