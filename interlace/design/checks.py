"""lme4's input check controls of the design (``lmerControl``'s ``check.*`` options).

Each check has lme4's name and an action.  Actions are ``"ignore"``,
``"info"`` (logged at INFO level on the ``interlace`` logger; lme4's
``"message"``), ``"warn"`` (an :class:`~interlace.errors.InterlaceWarning`;
lme4's ``"warning"``) and ``"raise"`` (an :class:`~interlace.errors.InterlaceError`;
lme4's ``"stop"``); the R spellings are accepted too.  Defaults are
``lmerControl()``'s:

======================  =========  ==================================================
control                 default    test (lme4 function)
======================  =========  ==================================================
``check.nlev.gtr.1``    raise      every grouping factor has >= 2 levels (``checkNlevels``)
``check.nobs.vs.nlev``  raise      levels < n (``<= n`` with ``allow_n``) (``checkNlevels``)
``check.nlev.gtreq.5``  ignore     every grouping factor has >= 5 levels (``checkNlevels``)
``check.nobs.vs.nRE``   raise      n > random effects of each term (``checkZdims``)
``check.nobs.vs.rankZ`` ignore     n > rank(Z) (``checkZrank``); also ``"warningSmall"``,
                                   ``"stopSmall"``
======================  =========  ==================================================

``check.rankX`` takes lme4's values (``"message+drop.cols"`` by default,
``"silent.drop.cols"``, ``"warn+drop.cols"``, ``"stop.deficient"``, ``"ignore"``)
and applies lme4's column choice (:mod:`interlace.design.rank`).  interlace
reports a dropped column with a :class:`~interlace.errors.RankDeficiencyWarning`
for both ``message+drop.cols`` and ``warn+drop.cols``: dropping a coefficient
changes the model, so it is never only logged.

``check.scaleX`` takes lme4's values (``"warning"`` by default, ``"stop"``,
``"silent.rescale"``, ``"message+rescale"``, ``"warn+rescale"``, ``"ignore"``).
lme4's test (``checkScaleX``): with ``s_i`` the standard deviations of the
columns of ``X`` that are not all 0/1, the scales are "very different" when
any ``|log s_i|`` or ``|log(s_i / s_j)|`` exceeds ``log(1000)``.  The rescale
actions divide those columns by ``s_i`` (lme4 does not transform the
estimates back).

Messages start with lme4's exact text; interlace appends the factors (and
counts) at fault.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Literal

import numpy as np
import scipy.sparse as sp

from interlace.design.fixed import FixedDesign
from interlace.design.rank import drop_rank_deficient, rank_check
from interlace.errors import (
    DataError,
    FewLevelsWarning,
    GroupingError,
    IdentifiabilityError,
    InterlaceError,
    InterlaceWarning,
    RankDeficiencyWarning,
    ScalingWarning,
)

Action = Literal["ignore", "info", "warn", "raise"]

_ACTIONS: dict[str, Action] = {
    "ignore": "ignore",
    "info": "info",
    "warn": "warn",
    "raise": "raise",
    "message": "info",
    "warning": "warn",
    "stop": "raise",
}

RANK_ACTIONS = (
    "message+drop.cols",
    "silent.drop.cols",
    "warn+drop.cols",
    "stop.deficient",
    "ignore",
)
SCALE_ACTIONS = (
    "warning",
    "stop",
    "silent.rescale",
    "message+rescale",
    "warn+rescale",
    "ignore",
)
_OTHER_LME4_CHECKS = frozenset(
    {
        "check.formula.LHS",
        "check.response.not.const",
        "check.conv.grad",
        "check.conv.singular",
        "check.conv.hess",
    }
)
"""lme4 check controls that other stages (or nobody yet) act on; accepted and passed over."""

_RESIDUAL = " and the residual variance (or scale parameter)"

_SMALL_ACTIONS = {"warningSmall": "warn", "stopSmall": "raise"}
"""lme4's rank(Z) actions that skip the check for a large ``Z``, and what they do otherwise."""
RANKZ_MAX_SMALL = 1e6
"""lme4's ``nonSmall``: the ``...Small`` rank(Z) actions skip ``Z`` with more entries."""

SCALE_TOL = 1000.0
"""lme4's ``tol`` of ``checkScaleX``: SD ratios above it are "very different"."""

_LOG = logging.getLogger("interlace")


def normalize_action(option: str, action: str) -> Action:
    """The canonical action for ``action`` (R or Python spelling).

    Raises
    ------
    ValueError
        An unknown action; the message lists the valid ones.
    """
    canonical = _ACTIONS.get(action)
    if canonical is None:
        valid = ", ".join(f"'{a}'" for a in _ACTIONS)
        raise ValueError(f"invalid action '{action}' for {option}: valid options are {{{valid}}}")
    return canonical


@dataclass(frozen=True)
class CheckControl:
    """Actions of lme4's design checks (fields use Python names of lme4's options).

    Attributes
    ----------
    nlev_gtr_1 : Action
        ``check.nlev.gtr.1``.
    nobs_vs_nlev : Action
        ``check.nobs.vs.nlev``.
    nlev_gtreq_5 : Action
        ``check.nlev.gtreq.5``.
    nobs_vs_nRE : Action
        ``check.nobs.vs.nRE``.
    nobs_vs_rankZ : str
        ``check.nobs.vs.rankZ``: an action, or lme4's ``"warningSmall"`` /
        ``"stopSmall"`` (only when ``Z`` has at most 1e6 entries).
    rankX : str
        ``check.rankX``, one of :data:`RANK_ACTIONS`.
    scaleX : str
        ``check.scaleX``, one of :data:`SCALE_ACTIONS`.
    """

    nlev_gtr_1: Action = "raise"
    nobs_vs_nlev: Action = "raise"
    nlev_gtreq_5: Action = "ignore"
    nobs_vs_nRE: Action = "raise"
    nobs_vs_rankZ: str = "ignore"
    rankX: str = "message+drop.cols"
    scaleX: str = "warning"

    def __post_init__(self) -> None:
        choices = {"rankX": RANK_ACTIONS, "scaleX": SCALE_ACTIONS}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "nobs_vs_rankZ" and value in _SMALL_ACTIONS:
                continue
            if f.name not in choices:
                object.__setattr__(self, f.name, normalize_action(_r_name(f.name), value))
            elif value not in choices[f.name]:
                valid = ", ".join(f"'{a}'" for a in choices[f.name])
                raise ValueError(
                    f"invalid action '{value}' for {_r_name(f.name)}: valid options are {{{valid}}}"
                )

    @classmethod
    def from_mapping(cls, control: Mapping[str, str] | None) -> CheckControl:
        """Read the design checks from an lme4-style control mapping.

        Keys may be lme4's names (``"check.nlev.gtr.1"``) or this class's
        field names (``"nlev_gtr_1"``).  Other keys (``optimizer``,
        ``check.conv.grad``, ...) are left to the stages that use them.

        Raises
        ------
        ValueError
            A ``check.*`` key that is not one of lme4's check controls (a typo),
            or an invalid action.
        """
        if control is None:
            return cls()
        by_r_name = {_r_name(f.name): f.name for f in fields(cls)}
        own = {f.name for f in fields(cls)}
        chosen: dict[str, str] = {}
        for key, action in control.items():
            name = by_r_name.get(key, key)
            if name in own:
                chosen[name] = action
            elif key.startswith("check.") and key not in _OTHER_LME4_CHECKS:
                known = ", ".join(sorted([*by_r_name, *_OTHER_LME4_CHECKS]))
                raise ValueError(f"unknown check control '{key}'; known: {known}")
        return cls(**chosen)  # type: ignore[arg-type]  # validated in __post_init__


def _r_name(field_name: str) -> str:
    """lme4's option name for a field: ``nlev_gtr_1`` -> ``check.nlev.gtr.1``."""
    return "check." + field_name.replace("_", ".")


def apply_action(
    action: Action,
    message: str,
    error: type[InterlaceError],
    warning: type[InterlaceWarning],
    **details: str,
) -> str | None:
    """Carry out one failed check: nothing, log, warn or raise.

    Returns
    -------
    str or None
        ``message`` if it was logged or warned (lme4 keeps these as
        ``wmsgs``), ``None`` if ignored.
    """
    if action == "raise":
        raise error(message, **details)
    if action == "warn":
        warnings.warn(message, warning, stacklevel=3)
    elif action == "info":
        _LOG.info(message)
    else:
        return None
    return message


def check_nlevels(
    n_levels: Mapping[str, int], n: int, control: CheckControl, *, allow_n: bool = False
) -> list[str]:
    """lme4's ``checkNlevels``: numbers of levels of the distinct grouping factors.

    Parameters
    ----------
    n_levels
        Grouping factor name -> number of (observed) levels, in ``flist`` order.
    n
        Number of observations.
    control
        The actions.
    allow_n
        glmer's rule: ``nlev == n`` is allowed.

    Returns
    -------
    list of str
        Messages of the checks that failed without raising.
    """
    issued: list[str] = []
    single = [name for name, nl in n_levels.items() if nl < 2]
    if single and control.nlev_gtr_1 != "ignore":
        msg = apply_action(
            control.nlev_gtr_1,
            f"grouping factors must have > 1 sampled level (problems: {', '.join(single)})",
            GroupingError,
            FewLevelsWarning,
            column=single[0],
            remedy="drop the random term of a factor with a single level",
        )
        issued += [msg] if msg else []
    too_many = [name for name, nl in n_levels.items() if (nl > n if allow_n else nl >= n)]
    if too_many and control.nobs_vs_nlev != "ignore":
        cmp = "<=" if allow_n else "<"
        counts = "; ".join(f"{name}: {n_levels[name]} levels" for name in too_many)
        msg = apply_action(
            control.nobs_vs_nlev,
            f"number of levels of each grouping factor must be {cmp} number of observations "
            f"(problems: {', '.join(too_many)}) [{counts}; {n} observations]",
            GroupingError,
            InterlaceWarning,
            column=too_many[0],
            remedy="a factor with one level per observation cannot be a grouping factor",
        )
        issued += [msg] if msg else []
    few = [name for name, nl in n_levels.items() if nl < 5]
    if few and control.nlev_gtreq_5 != "ignore":
        msg = apply_action(
            control.nlev_gtreq_5,
            "grouping factors with < 5 sampled levels may give unreliable estimates "
            f"(problems: {', '.join(few)})",
            GroupingError,
            FewLevelsWarning,
            column=few[0],
        )
        issued += [msg] if msg else []
    return issued


def check_zdims(
    term_sizes: Sequence[tuple[str, int]], n: int, control: CheckControl, *, allow_n: bool = False
) -> list[str]:
    """lme4's ``checkZdims``: each term has fewer random effects than observations.

    Parameters
    ----------
    term_sizes
        ``(term name, number of random effects)`` per term, in lme4's order.
    n
        Number of observations.
    control
        The actions.
    allow_n
        glmer's rule (``n == q`` allowed; no residual variance to confound).

    Returns
    -------
    list of str
        Distinct messages of the checks that failed without raising.
    """
    issued: list[str] = []
    if control.nobs_vs_nRE == "ignore":
        return issued
    for term, q in term_sizes:
        unidentifiable = n < q if allow_n else n <= q
        if not unidentifiable:
            continue
        cmp, residual = ("<", "") if allow_n else ("<=", _RESIDUAL)
        msg = apply_action(
            control.nobs_vs_nRE,
            f"number of observations (={n}) {cmp} number of random effects (={q}) for term "
            f"({term}); the random-effects parameters{residual} are probably unidentifiable",
            IdentifiabilityError,
            InterlaceWarning,
            term=term,
            remedy="simplify the random-effects term or use more observations per group",
        )
        if msg and msg not in issued:
            issued.append(msg)
    return issued


def check_zrank(
    Zt: sp.csc_matrix, n: int, control: CheckControl, *, allow_n: bool = False
) -> list[str]:
    """lme4's ``checkZrank``: fewer observations than the rank of ``Z`` (``check.nobs.vs.rankZ``).

    ``rank(Z) <= min(n, q)``, so with fewer random effects than observations
    (``q < n``) the test cannot fail and no rank is computed; otherwise the
    rank comes from a dense SVD (lme4 uses a sparse QR).

    Returns
    -------
    list of str
        The message when the check failed without raising.
    """
    action = control.nobs_vs_rankZ
    q = int(Zt.shape[0])
    if action == "ignore" or q < n or (action in _SMALL_ACTIONS and q * n > RANKZ_MAX_SMALL):
        return []
    rank = int(np.linalg.matrix_rank(Zt.toarray()))
    if not (n < rank if allow_n else n <= rank):
        return []
    cmp, residual = ("<", "") if allow_n else ("<=", _RESIDUAL)
    msg = apply_action(
        _SMALL_ACTIONS.get(action, action),  # type: ignore[arg-type]
        f"number of observations (={n}) {cmp} rank(Z) (={rank}); "
        f"the random-effects parameters{residual} are probably unidentifiable",
        IdentifiabilityError,
        InterlaceWarning,
        remedy="simplify the random-effects terms",
    )
    return [msg] if msg else []


def check_rank(design: FixedDesign, action: str) -> FixedDesign:
    """lme4's ``check.rankX``: drop aliased fixed-effect columns, or refuse them.

    Parameters
    ----------
    design
        The full fixed-effects design.
    action
        One of :data:`RANK_ACTIONS`.

    Returns
    -------
    FixedDesign
        ``design`` without the columns lme4 drops (unchanged for ``"ignore"``).

    Raises
    ------
    IdentifiabilityError
        ``"stop.deficient"`` and a rank-deficient design (lme4's message).
    """
    if action == "ignore":
        return design
    if action == "stop.deficient":
        check = rank_check(design.X, design.colnames)
        if check.dropped:
            p = design.X.shape[1]
            raise IdentifiabilityError(
                f"the fixed-effects model matrix is column rank deficient "
                f"(rank(X) = {p - len(check.dropped)} < {p} = p);\n"
                f"the fixed effects will be jointly unidentifiable "
                f"(aliased: {', '.join(check.dropped)})",
                term=check.dropped[0],
            )
        return design
    with warnings.catch_warnings():
        if action == "silent.drop.cols":
            warnings.simplefilter("ignore", RankDeficiencyWarning)
        return drop_rank_deficient(design)


def check_scale(
    design: FixedDesign, action: str, tol: float = SCALE_TOL
) -> tuple[FixedDesign, dict[str, float]]:
    """lme4's ``check.scaleX``: warn about, refuse or rescale columns on very different scales.

    Parameters
    ----------
    design
        The fixed-effects design (after the rank check).
    action
        One of :data:`SCALE_ACTIONS`.
    tol
        Largest accepted ratio of standard deviations (and of a standard
        deviation to 1).

    Returns
    -------
    design : FixedDesign
        Unchanged, or with the non-0/1 columns divided by their standard
        deviations for the rescale actions.
    scale : dict
        Column name -> standard deviation it was divided by (lme4's
        ``attr(X, "scaled:scale")``); empty when nothing was rescaled.

    Raises
    ------
    DataError
        ``"stop"`` and columns on very different scales.
    """
    if action == "ignore" or design.X.shape[0] < 2:
        return design, {}
    X = design.X
    continuous = ~np.all((X == 0) | (X == 1), axis=0)
    sd = np.std(X[:, continuous], axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_sd = np.log(sd)
        spread = np.abs(np.concatenate([log_sd, (log_sd[:, None] - log_sd[None, :]).ravel()]))
    if not np.any(spread > np.log(tol)):
        return design, {}
    names = [n for n, c in zip(design.colnames, continuous, strict=True) if c]
    detail = ", ".join(f"{n} (sd {s:.3g})" for n, s in zip(names, sd, strict=True))
    if action in ("warning", "stop"):
        message = (
            f"Some predictor variables are on very different scales: consider rescaling [{detail}]"
        )
        if action == "stop":
            raise DataError(message, column=names[0], remedy="centre and scale the predictors")
        warnings.warn(message, ScalingWarning, stacklevel=3)
        return design, {}
    message = (
        "Some predictor variables are on very different scales: auto-rescaled "
        f"(results NOT adjusted) [{detail}]"
    )
    if action == "warn+rescale":
        warnings.warn(message, ScalingWarning, stacklevel=3)
    elif action == "message+rescale":
        _LOG.info(message)
    scaled = X.copy()
    scaled[:, continuous] = X[:, continuous] / sd
    rescaled = replace(design, X=scaled)
    return rescaled, dict(zip(names, (float(s) for s in sd), strict=True))
