"""Choosing a denominator-df method for a fit by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from interlace.errors import InterlaceError
from interlace.inference.ddf import DdfMethod
from interlace.inference.kenward_roger import kenward_roger_of
from interlace.inference.satterthwaite import Satterthwaite
from interlace.inference.varpar import varpar_of

if TYPE_CHECKING:
    from interlace.results.lmer_result import LmerResult

_ALIASES = {
    "satterthwaite": "satterthwaite",
    "kenward-roger": "kenward-roger",
    "kenward_roger": "kenward-roger",
    "kr": "kenward-roger",
    "none": "none",
    "lme4": "none",
}


class DdfNameError(InterlaceError, ValueError):
    """An unknown ``ddf`` name."""

    code = "ddf"


def normalise_ddf(ddf: str) -> str:
    """``"Satterthwaite"``, ``"Kenward-Roger"``, ``"lme4"`` … → the canonical lower-case name."""
    name = _ALIASES.get(str(ddf).lower())
    if name is None:
        raise DdfNameError(
            f"unknown ddf {ddf!r}",
            remedy="use 'satterthwaite', 'kenward-roger' or 'none'",
        )
    return name


def ddf_method(result: LmerResult, ddf: str) -> DdfMethod:
    """The test provider of ``ddf`` (``"satterthwaite"`` or ``"kenward-roger"``) for a fit."""
    name = normalise_ddf(ddf)
    if name == "satterthwaite":
        return Satterthwaite(varpar_of(result))
    if name == "kenward-roger":
        return kenward_roger_of(result)
    raise DdfNameError(
        f"ddf={ddf!r} gives no degrees of freedom for this test",
        remedy="use 'satterthwaite' or 'kenward-roger'",
    )
