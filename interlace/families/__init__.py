"""GLM families and links, named as in R (``binomial(link = "probit")`` and friends).

``interlace.families.binomial(link="probit")`` returns the object R's
``binomial(link = "probit")`` describes; :func:`get_family` also accepts the
family's name as a string (``"binomial"``, ``"Gamma"``,
``"inverse.gaussian"`` or ``"inverse_gaussian"``) or the constructor itself.
``negative_binomial(theta)`` is MASS's family with a known θ (``glmer_nb`` estimates θ).
``nbinom1()``, ``nbinom2()``, ``beta_family()`` and ``truncated_*()`` are glmmTMB's
families (for ``glmmTMB``, :mod:`interlace.families.tmb_family`).
"""

from __future__ import annotations

from collections.abc import Callable

from interlace.families.family import FAMILIES, Family, InitialValues, make_family
from interlace.families.links import LINKS, Link
from interlace.families.negative_binomial import negative_binomial
from interlace.families.tmb_family import (
    TMB_FAMILIES,
    TmbFamily,
    beta_family,
    nbinom1,
    nbinom2,
    tmb_family,
    truncated_nbinom1,
    truncated_nbinom2,
    truncated_poisson,
)

__all__ = [
    "FAMILIES",
    "LINKS",
    "TMB_FAMILIES",
    "Family",
    "Gamma",
    "InitialValues",
    "Link",
    "TmbFamily",
    "beta_family",
    "binomial",
    "gaussian",
    "get_family",
    "inverse_gaussian",
    "make_family",
    "nbinom1",
    "nbinom2",
    "negative_binomial",
    "poisson",
    "tmb_family",
    "truncated_nbinom1",
    "truncated_nbinom2",
    "truncated_poisson",
]


def binomial(link: str = "logit") -> Family:
    """R's ``binomial()``: links ``logit``, ``probit``, ``cauchit``, ``log``, ``cloglog``."""
    return make_family("binomial", link)


def poisson(link: str = "log") -> Family:
    """R's ``poisson()``: links ``log``, ``identity``, ``sqrt``."""
    return make_family("poisson", link)


def Gamma(link: str = "inverse") -> Family:
    """R's ``Gamma()``: links ``inverse``, ``identity``, ``log``."""
    return make_family("Gamma", link)


def inverse_gaussian(link: str = "1/mu^2") -> Family:
    """R's ``inverse.gaussian()``: links ``1/mu^2``, ``inverse``, ``identity``, ``log``."""
    return make_family("inverse.gaussian", link)


def gaussian(link: str = "identity") -> Family:
    """R's ``gaussian()``: links ``identity``, ``log``, ``inverse``."""
    return make_family("gaussian", link)


_ALIASES = {"inverse_gaussian": "inverse.gaussian", "gamma": "Gamma"}


def get_family(family: Family | str | Callable[[], Family]) -> Family:
    """A family object from an object, a constructor or a name (as ``glmer`` accepts them).

    Raises
    ------
    ValueError
        An unknown name, or R's quasi families (``"quasi" families cannot be used in glmer``).
    """
    if isinstance(family, Family):
        return family
    if isinstance(family, str):
        if family.startswith("quasi"):
            raise ValueError('"quasi" families cannot be used in glmer')
        return make_family(_ALIASES.get(family, family))
    if callable(family):
        return family()
    raise ValueError(f"family must be a Family, a constructor or a name, not {family!r}")
