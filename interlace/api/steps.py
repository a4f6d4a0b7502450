"""Steps shared by the ``lmer`` and ``glmer`` façades."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from interlace.errors import RankDeficiencyWarning

if TYPE_CHECKING:
    from interlace.design.lformula import LmerDesign

#: ``start=``: θ as a vector, or a mapping of named starting values.
StartType = Sequence[float] | NDArray[np.float64] | Mapping[str, Any] | None


def build_design(build: Callable[[], LmerDesign]) -> tuple[LmerDesign, tuple[str, ...]]:
    """Run ``build`` and re-issue its warnings at the caller of the façade.

    Returns the design and the messages of the rank check (lme4's
    ``fitMsgs``, printed under "fit warnings" by ``summary()``).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        design = build()
    for record in caught:
        warnings.warn(record.message, stacklevel=3)
    rank = tuple(str(r.message) for r in caught if issubclass(r.category, RankDeficiencyWarning))
    return design, rank


def column_name(value: Any) -> str | None:
    """How the call named a weights or offset column (``None`` when given as values)."""
    return value if isinstance(value, str) else None
