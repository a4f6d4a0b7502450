"""Inference for fitted linear mixed models: lmerTest, pbkrtest and lme4 after the fit.

* :func:`coef_table` — coefficient table with Satterthwaite or Kenward–Roger df;
* :func:`anova_table` — type 1, 2 and 3 F tests of the fixed-effect terms;
* :func:`contest` — F or t tests of a user's contrast matrix;
* :func:`lrt` — likelihood-ratio tests between nested fits (``anova(m1, m2)``);
* :func:`confint` — Wald confidence intervals.

Each takes the fitted :class:`~interlace.results.lmer_result.LmerResult` first.
"""

from interlace.inference.anova import anova_table, contest, hypotheses
from interlace.inference.coef import coef_table
from interlace.inference.confint import confint
from interlace.inference.lrt import RefitWarning, lrt

__all__ = [
    "RefitWarning",
    "anova_table",
    "coef_table",
    "confint",
    "contest",
    "hypotheses",
    "lrt",
]
