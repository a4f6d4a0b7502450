"""interlace: R-exact mixed models in Python."""

from interlace.errors import (
    FormulaError,
    FormulaSyntaxError,
    InterlaceError,
    InterlaceWarning,
    MissingVariableError,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "FormulaError",
    "FormulaSyntaxError",
    "InterlaceError",
    "InterlaceWarning",
    "MissingVariableError",
    "__version__",
]
