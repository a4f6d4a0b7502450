"""``model_matrix``: R's ``model.matrix`` of a formula's fixed part."""

from __future__ import annotations

from typing import Any

import pandas as pd

from interlace.design.collation import Collation
from interlace.design.fixed import fixed_design
from interlace.design.frame import build_model_frame
from interlace.formula import formula_ir
from interlace.ir.terms import FIXED, FormulaIR


def model_matrix(
    formula: str,
    data: pd.DataFrame,
    *,
    contrasts: Any = None,
    collation: Collation = "icu",
) -> pd.DataFrame:
    """R's ``model.matrix(formula, data, contrasts.arg = contrasts)`` for the fixed part.

    Random-effect terms ``(... | g)`` are ignored (R's ``nobars``).  Rows with a
    missing value in the response or a fixed variable are dropped (with a
    :class:`~interlace.errors.DataDroppedWarning`); every column is kept, even
    when X is rank deficient, and unused factor levels are kept, as in R.

    Parameters
    ----------
    formula
        An R model formula, e.g. ``"y ~ x * cond + (1 | g)"``.
    data
        The data; never modified.
    contrasts
        ``{"cond": "contr.sum"}`` (names, short names such as ``"sum"``, matrices
        or DataFrames whose columns name the contrasts), or a pair of coding
        names applied to every factor (R's ``options(contrasts = ...)``).
    collation
        Level order of character columns: ``"icu"`` (a UTF-8 R session) or ``"C"``.

    Returns
    -------
    pandas.DataFrame
        Columns named and ordered as R's; index = the labels of the rows used.
        ``attrs["assign"]`` is R's ``attr(X, "assign")`` and ``attrs["contrasts"]``
        the coding of each factor coded by contrasts (``attr(X, "contrasts")``).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"y": [1.0, 2, 3], "cond": ["b", "a", "c"]})
    >>> list(model_matrix("y ~ cond", df).columns)
    ['(Intercept)', 'condb', 'condc']
    """
    ir = formula_ir(formula, dialect=FIXED, columns=tuple(str(c) for c in data.columns))
    fixed_only = FormulaIR(ir.text, ir.response, ir.fixed, (), ir.dialect)
    frame = build_model_frame(fixed_only, data, drop_unused_levels=False, collation=collation)
    design = fixed_design(ir.fixed, frame, contrasts)
    out = pd.DataFrame(design.X, index=frame.row_labels, columns=list(design.colnames))
    out.attrs["assign"] = list(design.assign)
    out.attrs["contrasts"] = dict(design.contrasts)
    return out
