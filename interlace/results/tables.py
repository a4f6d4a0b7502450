"""Tables of a fitted mixed model in lme4's layouts (``VarCorr``, ``ranef``, ``coef``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from interlace.engine.protocol import RandomTermDesign
from interlace.errors import FormulaError

FloatArray = NDArray[np.float64]

#: One row of ``as.data.frame(VarCorr(fit))``: ``grp, var1, var2, vcov, sdcor``.
VarCorrRow = tuple[str, str | None, str | None, float, float]
VARCORR_COLUMNS = ["grp", "var1", "var2", "vcov", "sdcor"]


def unique_group_names(groups: Sequence[str]) -> list[str]:
    """lme4's labels for terms sharing a factor: ``g``, ``g.1``, ``g.2`` (``make.unique``)."""
    seen: dict[str, int] = {}
    out = []
    for g in groups:
        if g in seen:
            seen[g] += 1
            out.append(f"{g}.{seen[g]}")
        else:
            seen[g] = 0
            out.append(g)
    return out


def varcorr_frame(
    terms: Sequence[RandomTermDesign], lams: Sequence[FloatArray], sigma: float
) -> pd.DataFrame:
    """``as.data.frame(VarCorr(fit))``: variances, then covariances, per term; residual last.

    Columns ``grp, var1, var2, vcov, sdcor``; ``sdcor`` holds standard
    deviations on variance rows and correlations on covariance rows.
    """
    rows: list[VarCorrRow] = []
    labels = unique_group_names([t.group for t in terms])
    for label, term, lam in zip(labels, terms, lams, strict=True):
        rows += covariance_rows(label, term.names, sigma**2 * (lam @ lam.T))
    rows.append(("Residual", None, None, sigma**2, sigma))
    return pd.DataFrame(rows, columns=VARCORR_COLUMNS)


def covariance_rows(
    group: str, names: Sequence[str], cov: FloatArray, *, covariances: bool = True
) -> list[VarCorrRow]:
    """One term's rows of ``as.data.frame(VarCorr(fit))``.

    The variances with their standard deviations, then (with ``covariances``)
    each pair's covariance with its correlation (missing when an SD is 0).
    """
    sd = np.sqrt(np.diag(cov))
    rows: list[VarCorrRow] = [
        (group, name, None, float(cov[i, i]), float(sd[i])) for i, name in enumerate(names)
    ]
    if covariances:
        for i in range(len(names)):
            for j in range(i + 1, len(names)):
                denom = sd[i] * sd[j]
                corr = float(cov[i, j] / denom) if denom > 0 else float("nan")
                rows.append((group, names[i], names[j], float(cov[i, j]), corr))
    return rows


def ranef_frames(
    terms: Sequence[RandomTermDesign], b: Sequence[FloatArray]
) -> dict[str, pd.DataFrame]:
    """``ranef(fit)``: per grouping factor, levels x term columns (terms on one factor merged)."""
    out: dict[str, pd.DataFrame] = {}
    for term, bi in zip(terms, b, strict=True):
        frame = pd.DataFrame(bi, index=pd.Index(list(term.levels)), columns=list(term.names))
        if term.group in out:
            out[term.group] = pd.concat([out[term.group], frame], axis=1)
        else:
            out[term.group] = frame
    return out


def coef_frames(ranef: dict[str, pd.DataFrame], fe_params: pd.Series) -> dict[str, pd.DataFrame]:
    """``coef(fit)``: fixed effects plus the matching random effects, per level.

    Raises
    ------
    FormulaError
        A random effect without a fixed effect of the same name (lme4: "unable
        to align random and fixed effects").
    """
    out = {}
    for group, re in ranef.items():
        missing = [name for name in re.columns if name not in fe_params.index]
        if missing:
            raise FormulaError(
                f"unable to align random and fixed effects: {', '.join(missing)} of "
                f"{group} has no fixed effect",
                term=group,
                remedy="use ranef() and fe_params separately",
            )
        frame = pd.DataFrame(
            np.tile(fe_params.to_numpy(), (len(re), 1)),
            index=re.index,
            columns=fe_params.index,
        )
        for name in re.columns:
            frame[name] = frame[name] + re[name].to_numpy()
        out[group] = frame
    return out


def conditional_covariances(
    lams: Sequence[FloatArray], u_blocks: Sequence[FloatArray], scale: float = 1.0
) -> tuple[FloatArray, ...]:
    """Per term, ``scale · λ U_l λ'`` for each level's ``k x k`` block ``U_l`` of ``Var(u | y)/σ²``.

    The conditional covariances of ``b = Λ u`` (lme4's ``postVar``), ``levels x k x k``.
    """
    pairs = zip(lams, u_blocks, strict=True)
    return tuple(scale * np.einsum("ij,ljk,mk->lim", lam, u, lam) for lam, u in pairs)
