"""Error and warning classes of interlace.

Every failure a user can cause is raised as a subclass of :class:`InterlaceError`
(and of the matching built-in exception, so ``except ValueError`` keeps working).
Each error may carry the offending ``column``, ``term`` or ``rows`` and a
``remedy``; the message always names them.  Warnings subclass
:class:`InterlaceWarning` and are also stored on results.

The taxonomy follows ``shared/reference/RELIABILITY.md`` section 5.
"""

from __future__ import annotations

from collections.abc import Sequence


class InterlaceError(Exception):
    """Base class of every error raised by interlace.

    Parameters
    ----------
    message
        What went wrong, in the user's terms.
    column, term
        The data column or model term at fault, when there is one.
    rows
        Row labels (of the caller's DataFrame) at fault, when there are any.
    remedy
        What the user can do about it; appended to the message.
    """

    code = "interlace"

    def __init__(
        self,
        message: str,
        *,
        column: str | None = None,
        term: str | None = None,
        rows: Sequence[object] | None = None,
        remedy: str | None = None,
    ) -> None:
        self.column = column
        self.term = term
        self.rows = list(rows) if rows is not None else None
        self.remedy = remedy
        full = message if remedy is None else f"{message}\nRemedy: {remedy}"
        super().__init__(full)

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0]) if self.args else ""


_LINE_BREAKS = {ord("\n"): " ", ord("\r"): " ", ord("\t"): " "}


def located_message(message: str, formula: str, position: int) -> str:
    """``message`` with the column, the formula and a caret under ``formula[position]``.

    Line breaks and tabs in ``formula`` are shown as spaces so that the caret stays aligned.
    """
    shown = formula.translate(_LINE_BREAKS)
    return f"{message} (column {position + 1})\n  {shown}\n  {' ' * position}^"


class _LocatedError(InterlaceError):
    """An error at a place in formula text: ``formula`` and 0-based ``position`` (or ``None``)."""

    def __init__(
        self,
        message: str,
        *,
        formula: str | None = None,
        position: int | None = None,
        column: str | None = None,
        term: str | None = None,
        remedy: str | None = None,
    ) -> None:
        self.formula = formula
        self.position = position
        if formula is not None and position is not None:
            message = located_message(message, formula, position)
        super().__init__(message, column=column, term=term, remedy=remedy)

    @property
    def column_number(self) -> int | None:
        """1-based column of the problem, as editors count (``None`` if not located)."""
        return None if self.position is None else self.position + 1


class FormulaSyntaxError(_LocatedError, ValueError):
    """Formula text that cannot be parsed; the message shows a caret under the problem.

    Attributes
    ----------
    formula : str
        The formula text.
    position : int
        0-based character offset of the problem in ``formula``.
    """

    code = "formula-syntax"

    def __init__(self, message: str, formula: str, position: int) -> None:
        super().__init__(message, formula=formula, position=position)


class FormulaError(_LocatedError, ValueError):
    """A well-formed formula that does not describe a valid model.

    When the problem has a place in the formula text, ``formula`` and ``position``
    are set and the message shows a caret under it.
    """

    code = "formula"


class UnknownFunctionError(FormulaError):
    """A function call in a formula that interlace does not know."""

    code = "unknown-function"


class MissingVariableError(InterlaceError, KeyError):
    """A variable named by the model is not a column of the data."""

    code = "missing-variable"


class DataError(InterlaceError, ValueError):
    """Base class for problems with the data values."""

    code = "data"


class EmptyDataError(DataError):
    """No rows are left to fit."""

    code = "empty-data"


class NonFiniteError(DataError):
    """Infinite values in a model variable."""

    code = "non-finite"


class WeightsError(DataError):
    """Invalid prior weights."""

    code = "weights"


class OffsetError(DataError):
    """Invalid offset."""

    code = "offset"


class ResponseTypeError(DataError, TypeError):
    """The response has the wrong type for the model."""

    code = "response-type"


class ResponseDomainError(DataError):
    """Response values outside the support of the family."""

    code = "response-domain"


class ConstantResponseError(DataError):
    """The response does not vary."""

    code = "constant-response"


class GroupingError(DataError):
    """A grouping factor that cannot identify a random effect."""

    code = "grouping"


class IdentifiabilityError(InterlaceError, ValueError):
    """Parameters that the data cannot identify."""

    code = "identifiability"


class StartingValuesError(InterlaceError, ValueError):
    """Starting values of the wrong length, not finite, or outside the parameter space."""

    code = "starting-values"


class UnsupportedFeatureError(InterlaceError, ValueError):
    """A model feature of the R function that interlace does not fit (yet)."""

    code = "unsupported"


class ConvergenceError(InterlaceError, RuntimeError):
    """The optimiser found no usable estimate."""

    code = "convergence"


class NumericalError(ConvergenceError):
    """A factorisation broke down."""

    code = "numerical"


class NewLevelError(InterlaceError, KeyError):
    """Prediction asked for grouping levels the model has not seen."""

    code = "new-level"


class IncomparableModelsError(InterlaceError, ValueError):
    """Models that a likelihood-ratio test cannot compare."""

    code = "incomparable-models"


class InterlaceWarning(UserWarning):
    """Base class of every warning issued by interlace."""


class DataDroppedWarning(InterlaceWarning):
    """Rows were dropped (missing values)."""


class LevelsDroppedWarning(InterlaceWarning):
    """Unused factor levels were dropped."""


class RankDeficiencyWarning(InterlaceWarning):
    """Aliased fixed-effect columns were dropped."""


class ResponseOnRightWarning(InterlaceWarning):
    """The response also appeared as a term on the right-hand side and was dropped there."""


class ScalingWarning(InterlaceWarning):
    """Predictors on very different scales."""


class FewLevelsWarning(InterlaceWarning):
    """A grouping factor with few levels."""


class NonIntegerResponseWarning(InterlaceWarning):
    """Non-integer counts for a discrete family."""


class SeparationWarning(InterlaceWarning):
    """(Quasi-)separation in a binary model."""


class ConvergenceWarning(InterlaceWarning):
    """The optimiser or the post-fit checks report a problem."""


class HessianWarning(ConvergenceWarning):
    """The Hessian at the optimum is not positive definite or is ill-conditioned."""


class SingularFitWarning(InterlaceWarning):
    """The fit is on the boundary of the parameter space (``isSingular``)."""


class TranslationWarning(InterlaceWarning):
    """R semantics differ from the naive reading of the code."""


class StartingValuesWarning(InterlaceWarning):
    """Starting values were adjusted or ignored."""
