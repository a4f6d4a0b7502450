"""A model call read from R code: which function, which arguments (as R text).

R itself reads the code (``match.call`` against the fitting function, in
:mod:`interlace.parity.rbridge`), so the arguments here are already matched to their formal
names: ``lmer(y ~ x + (1 | g), d, REML = FALSE)`` becomes ``formula``, ``data`` and ``REML``.
A :class:`ModelCall` is plain data and serialises to JSON for frozen-mode fixtures.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from interlace.errors import InterlaceError

_SYMBOL = re.compile(r"^(?:[A-Za-z.][A-Za-z0-9._]*|`[^`]+`)$")


class ParityCallError(InterlaceError, ValueError):
    """R code that the parity harness cannot run on both sides."""

    code = "parity-call"


@dataclass(frozen=True)
class ModelCall:
    """One model-fitting call, its arguments matched by R.

    Attributes
    ----------
    name : str or None
        The variable the fit is assigned to (``m1`` in ``m1 <- lmer(...)``).
    function : str
        The R function without its package prefix (``"lmer"``).
    source : str
        The call as written, deparsed on one line.
    args : Mapping[str, str]
        Formal argument name → argument as R text, in the order of the call.
    """

    name: str | None
    function: str
    source: str
    args: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``"m1 <- lmer(...)"`` or the bare call."""
        return f"{self.name} <- {self.source}" if self.name else self.source

    @property
    def formula(self) -> str:
        """The model formula as R text.

        Raises
        ------
        ParityCallError
            If the call has no formula.
        """
        return self.require("formula")

    @property
    def data_name(self) -> str:
        """The name of the data frame, which must be a bare R symbol.

        Raises
        ------
        ParityCallError
            If ``data`` is missing or is an expression.
        """
        text = self.require("data")
        if not _SYMBOL.match(text):
            raise ParityCallError(
                f"data = {text} in {self.label} is an expression; the parity harness needs the "
                "name of a data frame",
                remedy="assign the data to a name first and pass that name",
            )
        return text.strip("`")

    def require(self, arg: str) -> str:
        """The R text of a required argument."""
        try:
            return self.args[arg]
        except KeyError:
            raise ParityCallError(f"{self.label} has no {arg} argument") from None

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "name": self.name,
            "function": self.function,
            "source": self.source,
            "args": dict(self.args),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelCall:
        """Rebuild a call written by :meth:`to_dict`."""
        return cls(data.get("name"), data["function"], data["source"], dict(data["args"]))


def is_symbol(text: str) -> bool:
    """Whether R text is a bare symbol (a column or object name)."""
    return bool(_SYMBOL.match(text))
