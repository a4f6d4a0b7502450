"""interlace: R-exact mixed models in Python.

Paste an ``lme4::lmer`` model and get lme4's numbers from interlace's own
engine; prove the equivalence with :mod:`interlace.parity`.  The public
surface is listed in ``__all__``; everything else is internal.
"""

from interlace import datasets, families, parity
from interlace._version import __version__
from interlace.api.clmm import ClmmControl, clmm
from interlace.api.coxme import coxme
from interlace.api.fit import fit
from interlace.api.glmer import glmer
from interlace.api.glmer_nb import glmer_nb
from interlace.api.glmmtmb import glmmTMB
from interlace.api.lme import lme
from interlace.api.lmer import lmer
from interlace.api.model_matrix import model_matrix
from interlace.correlation import corAR1, corCAR1, corCompSymm
from interlace.design.lformula import LmerDesign, glformula, lformula
from interlace.errors import (
    ConvergenceError,
    DataError,
    FormulaError,
    FormulaSyntaxError,
    InterlaceError,
    InterlaceWarning,
    MissingVariableError,
)
from interlace.pdmat import pdDiag, pdSymm
from interlace.results.clmm_result import ClmmResult
from interlace.results.coxme_result import CoxmeResult
from interlace.results.glmer_result import GlmerResult
from interlace.results.glmmtmb_result import GlmmTMBResult
from interlace.results.lme_result import LmeResult
from interlace.results.lmer_result import LmerResult
from interlace.translate import r, translate
from interlace.varfunc import varExp, varIdent, varPower

__all__ = [
    "ClmmControl",
    "ClmmResult",
    "ConvergenceError",
    "CoxmeResult",
    "DataError",
    "FormulaError",
    "FormulaSyntaxError",
    "GlmerResult",
    "GlmmTMBResult",
    "InterlaceError",
    "InterlaceWarning",
    "LmeResult",
    "LmerDesign",
    "LmerResult",
    "MissingVariableError",
    "__version__",
    "clmm",
    "corAR1",
    "corCAR1",
    "corCompSymm",
    "coxme",
    "datasets",
    "families",
    "fit",
    "glformula",
    "glmer",
    "glmer_nb",
    "glmmTMB",
    "lformula",
    "lme",
    "lmer",
    "model_matrix",
    "parity",
    "pdDiag",
    "pdSymm",
    "r",
    "translate",
    "varExp",
    "varIdent",
    "varPower",
]
