"""Inference for fitted linear mixed models: lmerTest, pbkrtest and lme4 after the fit.

* :func:`coef_table` — coefficient table with Satterthwaite or Kenward–Roger df;
* :func:`anova_table` — type 1, 2 and 3 F tests of the fixed-effect terms;
* :func:`contest` — F or t tests of a user's contrast matrix;
* :func:`lrt` — likelihood-ratio tests between nested fits (``anova(m1, m2)``);
* :func:`confint` — Wald, likelihood-profile and parametric-bootstrap intervals;
* :func:`bootstrap` — lme4's ``bootMer``: a statistic over simulated refits.

Each takes the fitted :class:`~interlace.results.lmer_result.LmerResult` first.
"""

from interlace.inference.anova import anova_table, contest, hypotheses
from interlace.inference.bootstrap import BootResult, bootstrap
from interlace.inference.coef import coef_table
from interlace.inference.confint import confint
from interlace.inference.lrt import RefitWarning, lrt

__all__ = [
    "BootResult",
    "RefitWarning",
    "anova_table",
    "bootstrap",
    "coef_table",
    "confint",
    "contest",
    "hypotheses",
    "lrt",
]
