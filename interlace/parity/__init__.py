"""The parity harness: fit the same model in R and in interlace, compare, report.

>>> from interlace import datasets, parity                      # doctest: +SKIP
>>> report = parity.compare(
...     "lmer(Reaction ~ Days + (Days | Subject), sleepstudy)",
...     sleepstudy=datasets.load("sleepstudy"),
... )                                                            # doctest: +SKIP
>>> report.passed                                                # doctest: +SKIP
True

Only :mod:`interlace.parity.rbridge` imports rpy2, and only when live mode is first used
(:func:`interlace.parity.rbridge.bridge`), so importing this package does not need R.
See ``docs/parity.md``.

Note that the function :func:`compare` shadows the submodule of the same name as an attribute of
this package; import the submodule's contents with ``from interlace.parity.compare import ...``.
"""

from __future__ import annotations

from interlace.parity.api import compare, compare_all, compare_frozen, freeze
from interlace.parity.compare import compare_summaries
from interlace.parity.rbridge import RCallError, RUnavailableError
from interlace.parity.report import ParityReport
from interlace.parity.schema import FitSummary
from interlace.parity.tolerances import Tolerance

__all__ = [
    "FitSummary",
    "ParityReport",
    "RCallError",
    "RUnavailableError",
    "Tolerance",
    "compare",
    "compare_all",
    "compare_frozen",
    "compare_summaries",
    "freeze",
]
