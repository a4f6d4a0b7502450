"""InstEval (n = 73,421; 4,100 crossed random effects): Satterthwaite and type 3 anova (slow).

The reference is the stored output of ``Rscript fixtures/R/inference.R --insteval``.
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from inference_helpers import names, rel_err

from interlace import datasets
from interlace.api.lmer import lmer
from interlace.inference import anova_table, coef_table

STORED = Path(__file__).resolve().parents[2] / "fixtures" / "inference" / "insteval.json"


@pytest.mark.slow
def test_insteval_satterthwaite_and_anova() -> None:
    if not STORED.is_file():
        pytest.skip("run Rscript fixtures/R/inference.R --insteval to create the reference")
    ref = json.loads(STORED.read_text(encoding="utf-8"))
    data = datasets.load("InstEval")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = lmer("y ~ service * dept + (1 | s) + (1 | d)", data)
    start = time.perf_counter()
    table = coef_table(fit)
    elapsed = time.perf_counter() - start
    r = ref["coef_satterthwaite"]
    assert list(table.index) == names(r["rownames"])
    assert rel_err(table["df"], r["df"]) < 1e-4
    assert rel_err(table["Pr(>|t|)"], r["Pr(>|t|)"]) < 1e-3
    assert elapsed < 120.0  # about 14 s on two cores; generous for slow CI machines
    anova = anova_table(fit, type=3, data=data)
    a = ref["anova3"]
    assert list(anova.index) == names(a["rownames"])
    assert rel_err(anova["DenDF"], a["DenDF"]) < 1e-4
    assert rel_err(anova["F value"], a["F value"]) < 1e-5
    assert np.all(np.isfinite(anova["Pr(>F)"]))
