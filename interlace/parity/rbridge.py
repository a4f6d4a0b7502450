"""The bridge to R: the only module of interlace that imports rpy2 (lazily).

Data go to R column by column, built by hand rather than by ``pandas2ri`` so that nothing is
left to a converter's defaults:

=====================================  ==========================================
pandas column                          R column
=====================================  ==========================================
``Categorical``                        ``factor`` with the same levels, in order
``Categorical(ordered=True)``          ``ordered`` factor
non-string categories                  converted with ``str`` first, order kept
``float``                              ``numeric`` (``NaN`` → ``NA``)
``int`` (within R's integer range)     ``integer``; otherwise ``numeric``
nullable ``Int``/``Float``/``boolean``  ``integer``/``numeric``/``logical`` with ``NA``
``bool``                               ``logical``
``str``/``object`` of strings          ``character`` (``None``/``NaN`` → ``NA``)
=====================================  ==========================================

Anything else (dates, mixed objects) raises :class:`~interlace.errors.DataError` naming the
column.  Model calls are evaluated in R inside a fresh environment where each data frame is
bound under its own name, so ``fit@call`` stays short and ``update()`` can find the data
(R_SEMANTICS §9.2).  Every R evaluation runs under ``withCallingHandlers`` so that warnings and
messages are captured with the call that raised them, and all outputs are shaped into plain
vectors in R before conversion (names and ``NA`` would otherwise be lost, §9.4).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from interlace.errors import DataError, InterlaceError
from interlace.parity.calls import ModelCall
from interlace.parity.schema import ANOVA_COLUMNS, DDF_COLUMNS, DesignSummary, FitSummary, LogLik

RPY2_SPEC = "rpy2>=3.5.17,<3.6"
_R_INT_MAX = 2**31 - 1
_R_NA_INTEGER = -(2**31)
_NUMERIC_KINDS = frozenset({"integer", "floating", "mixed-integer-float", "decimal", "empty"})


class RUnavailableError(InterlaceError, RuntimeError):
    """Live parity mode needs R, rpy2 or an R package that is not available."""

    code = "r-unavailable"


class RCallError(InterlaceError, RuntimeError):
    """R raised an error while evaluating a call.

    Attributes
    ----------
    r_message : str
        R's error message.
    warnings, messages : tuple of str
        Conditions R signalled before the error.
    """

    code = "r-error"

    def __init__(
        self,
        what: str,
        r_message: str,
        warnings: Sequence[str] = (),
        messages: Sequence[str] = (),
    ) -> None:
        self.r_message = r_message
        self.warnings = tuple(warnings)
        self.messages = tuple(messages)
        super().__init__(f"R failed on {what}: {r_message}")


def debian_package(package: str) -> str:
    """The Debian/Ubuntu package of an R package (``lme4`` → ``r-cran-lme4``)."""
    return "r-base" if package in {"stats", "base", "methods"} else f"r-cran-{package.lower()}"


_R_HELPERS = r"""
local({
  one_line <- function(x) paste(trimws(deparse(x, width.cutoff = 500L)), collapse = " ")

  capture <- function(expr) {
    warnings <- character(0)
    messages <- character(0)
    value <- tryCatch(
      withCallingHandlers(expr,
        warning = function(w) {
          warnings <<- c(warnings, conditionMessage(w))
          invokeRestart("muffleWarning")
        },
        message = function(m) {
          messages <<- c(messages, sub("\n$", "", conditionMessage(m)))
          invokeRestart("muffleMessage")
        }),
      error = function(e) structure(list(conditionMessage(e)), class = "interlace_r_error"))
    if (inherits(value, "interlace_r_error"))
      return(list(ok = FALSE, error = value[[1]], warnings = warnings, messages = messages))
    list(ok = TRUE, value = value, warnings = warnings, messages = messages)
  }

  missing_packages <- function(packages)
    packages[!vapply(packages, requireNamespace, logical(1), quietly = TRUE)]

  attach_packages <- function(packages)
    capture(for (p in packages) suppressPackageStartupMessages(library(p, character.only = TRUE)))

  versions <- function(packages) {
    out <- c(R = R.version.string,
             vapply(packages, function(p) as.character(utils::packageVersion(p)), ""))
    as.list(out)
  }

  build_frame <- function(cols, col_names, nrow) {
    out <- lapply(cols, function(col) {
      x <- col$values
      if (length(col$na)) x[col$na] <- NA
      if (identical(col$kind, "Date")) x <- structure(as.numeric(x), class = "Date")
      if (identical(col$kind, "POSIXct"))
        x <- structure(as.numeric(x), class = c("POSIXct", "POSIXt"), tzone = "UTC")
      if (identical(col$kind, "factor"))
        x <- structure(as.integer(x), levels = as.character(col$levels),
                       class = if (isTRUE(col$ordered)) c("ordered", "factor") else "factor")
      x
    })
    names(out) <- col_names
    structure(out, class = "data.frame", row.names = c(NA_integer_, -as.integer(nrow)))
  }

  frame_parts <- function(df) {
    cols <- lapply(df, function(x) {
      if (is.factor(x))
        list(kind = "factor", values = as.integer(x), levels = levels(x), ordered = is.ordered(x))
      else if (inherits(x, "Date")) list(kind = "Date", values = as.numeric(x))
      else if (inherits(x, "POSIXct")) list(kind = "POSIXct", values = as.numeric(x))
      else if (is.logical(x)) list(kind = "logical", values = x)
      else if (is.integer(x)) list(kind = "integer", values = x)
      else if (is.numeric(x)) list(kind = "double", values = as.numeric(x))
      else list(kind = "character", values = as.character(x))
    })
    list(names = names(df), cols = unname(cols))
  }

  new_env <- function(frames) {
    env <- new.env(parent = globalenv())
    for (nm in names(frames)) assign(nm, frames[[nm]], envir = env)
    env
  }

  parse_calls <- function(code, functions) capture({
    exprs <- parse(text = code, keep.source = FALSE)
    calls <- list()
    skipped <- character(0)
    for (i in seq_along(exprs)) {
      e <- exprs[[i]]
      name <- NA_character_
      if (is.call(e) && (identical(e[[1]], as.name("<-")) || identical(e[[1]], as.name("=")))) {
        name <- one_line(e[[2]])
        e <- e[[3]]
      }
      fun <- if (is.call(e)) sub("^[A-Za-z0-9.]+:::?", "", one_line(e[[1]])) else ""
      if (!fun %in% names(functions)) {
        skipped <- c(skipped, one_line(exprs[[i]]))
        next
      }
      mc <- match.call(eval(parse(text = functions[[fun]])[[1]]), e)
      args <- as.list(mc)[-1]
      calls[[length(calls) + 1L]] <- list(
        name = name, fun = fun, source = one_line(e),
        arg_names = names(args), arg_text = unname(vapply(args, one_line, "")))
    }
    list(calls = calls, skipped = skipped)
  })

  qualified_call <- function(fun, args) {
    e <- as.call(c(list(parse(text = fun)[[1]]),
                   lapply(args, function(a) parse(text = a, keep.source = FALSE)[[1]])))
    names(e) <- c("", names(args))
    e
  }

  fit_model <- function(fun, args, env) capture(eval(qualified_call(fun, args), env))

  eval_arg <- function(text, data_name, env)
    capture(as.numeric(eval(parse(text = text)[[1]], get(data_name, envir = env), env)))

  eval_family <- function(text, data_name, env) capture({
    f <- eval(parse(text = text)[[1]], get(data_name, envir = env), env)
    if (is.character(f)) f <- get(f, mode = "function", envir = env)
    if (is.function(f)) f <- f()
    if (!inherits(f, "family")) stop("family = ", text, " is not a family")
    list(family = f$family, link = f$link)
  })

  devfun_at <- function(fun, args, env, thetas) capture({
    e <- qualified_call(fun, args)
    e$devFunOnly <- TRUE
    f <- eval(e, env)
    vapply(thetas, function(t) f(as.numeric(t)), numeric(1))
  })

  summarize_merMod <- function(m) {
    fe <- lme4::fixef(m)
    v <- as.matrix(stats::vcov(m))
    ll <- stats::logLik(m)
    vc <- as.data.frame(lme4::VarCorr(m))
    re <- as.data.frame(lme4::ranef(m, condVar = TRUE))
    th <- lme4::getME(m, "theta")
    conv <- m@optinfo$conv
    list(fixef_names = names(fe), fixef = unname(fe), se = unname(sqrt(diag(v))),
         theta_names = names(th), theta = unname(th), sigma = stats::sigma(m),
         loglik = as.numeric(ll), df = as.integer(attr(ll, "df")),
         nobs = as.integer(attr(ll, "nobs")), reml = lme4::isREML(m),
         vc_grp = as.character(vc$grp), vc_var1 = as.character(vc$var1),
         vc_var2 = as.character(vc$var2), vc_vcov = vc$vcov, vc_sdcor = vc$sdcor,
         re_grpvar = as.character(re$grpvar), re_term = as.character(re$term),
         re_grp = as.character(re$grp), re_condval = re$condval,
         re_condsd = if (is.null(re$condsd)) rep(NA_real_, nrow(re)) else re$condsd,
         singular = lme4::isSingular(m),
         conv_messages = as.character(unlist(conv$lme4$messages)),
         converged = identical(as.integer(conv$opt), 0L) &&
           (is.null(conv$lme4$code) || all(conv$lme4$code == 0L)))
  }

  ddf_merMod <- function(m, type) capture({
    mt <- lmerTest::as_lmerModLmerTest(m)
    methods <- c("Satterthwaite", if (lme4::isREML(m)) "Kenward-Roger")
    coef <- lapply(methods, function(d) {
      ct <- summary(mt, ddf = d)$coefficients
      list(method = rep(d, nrow(ct)), term = rownames(ct), se = unname(ct[, "Std. Error"]),
           df = unname(ct[, "df"]), t = unname(ct[, "t value"]), p = unname(ct[, "Pr(>|t|)"]))
    })
    tests <- lapply(methods, function(d) {
      a <- stats::anova(mt, type = type, ddf = d)
      list(method = rep(d, nrow(a)), term = rownames(a), NumDF = as.numeric(a$NumDF),
           DenDF = as.numeric(a$DenDF), F = as.numeric(a[["F value"]]),
           p = as.numeric(a[["Pr(>F)"]]))
    })
    stack <- function(parts) lapply(stats::setNames(nm = names(parts[[1]])),
                                    function(k) unlist(lapply(parts, `[[`, k)))
    list(coef = stack(coef), anova = stack(tests))
  })

  design_merMod <- function(m) {
    X <- lme4::getME(m, "X")
    Zt <- methods::as(lme4::getME(m, "Zt"), "TsparseMatrix")
    cnms <- lme4::getME(m, "cnms")
    list(X = as.numeric(X), X_dim = dim(X), X_names = colnames(X),
         Zt_i = Zt@i, Zt_j = Zt@j, Zt_x = Zt@x, Zt_dim = Zt@Dim,
         Lind = as.integer(lme4::getME(m, "Lind") - 1L), lower = lme4::getME(m, "lower"),
         cnms_groups = names(cnms), cnms_sizes = lengths(cnms),
         cnms_names = unlist(cnms, use.names = FALSE))
  }

  environment()
})
"""


@dataclass(frozen=True)
class ParsedCode:
    """Model calls found in R code, and the statements that are not model calls.

    Attributes
    ----------
    calls : tuple of ModelCall
    skipped : tuple of str
        Other top-level statements (``library(lme4)``, data manipulation, ...), deparsed.
    """

    calls: tuple[ModelCall, ...]
    skipped: tuple[str, ...]


@dataclass(frozen=True)
class RFit:
    """A model fitted in R, kept in the R session.

    Attributes
    ----------
    call : ModelCall
    handle : object
        The R object (an rpy2 proxy); only the bridge uses it.
    warnings, messages : tuple of str
        Conditions R signalled while fitting.
    """

    call: ModelCall
    handle: Any
    warnings: tuple[str, ...]
    messages: tuple[str, ...]


class RBridge:
    """A connection to the embedded R session (obtain it with :func:`bridge`).

    Raises
    ------
    RUnavailableError
        If rpy2 or R cannot be loaded.
    """

    def __init__(self) -> None:
        try:
            self._ro = importlib.import_module("rpy2.robjects")
            conversion = importlib.import_module("rpy2.robjects.conversion")
        except ImportError as exc:
            raise RUnavailableError(
                f"live parity mode needs rpy2, which cannot be imported ({exc})",
                remedy=f"pip install '{RPY2_SPEC}' (and R itself: apt-get install r-base)",
            ) from None
        except Exception as exc:  # rpy2 raises various errors when R itself is missing
            raise RUnavailableError(
                f"live parity mode needs R, which rpy2 cannot start ({exc})",
                remedy="install R (Debian: apt-get install r-base) and make R_HOME point to it",
            ) from None
        self._localconverter = conversion.localconverter
        with self._conversion():
            self._helpers = self._ro.r(_R_HELPERS)

    # --- plumbing -----------------------------------------------------------------------------

    def _conversion(self) -> Any:
        """A fresh context with rpy2's default (numpy- and pandas-free) conversion."""
        return self._localconverter(self._ro.default_converter)

    def _call(self, helper: str, *args: Any) -> Any:
        with self._conversion():
            return self._helpers[helper](*args)

    def _captured(self, what: str, helper: str, *args: Any) -> tuple[Any, list[str], list[str]]:
        out = self._call(helper, *args)
        warnings = _strings(out.rx2("warnings"))
        messages = _strings(out.rx2("messages"))
        if not bool(out.rx2("ok")[0]):
            raise RCallError(what, str(out.rx2("error")[0]), warnings, messages)
        return out.rx2("value"), warnings, messages

    def require(self, packages: Iterable[str]) -> None:
        """Check that R packages are installed and attach them.

        Attaching them is what the ``library()`` lines of the user's code do (those lines are
        not run), so that calls such as ``control = lmerControl(...)`` resolve.

        Raises
        ------
        RUnavailableError
            Naming each missing package and its Debian package.
        """
        names = self._ro.StrVector(list(packages))
        missing = _strings(self._call("missing_packages", names))
        if missing:
            debs = " ".join(debian_package(p) for p in missing)
            raise RUnavailableError(
                f"live parity mode needs the R package(s) {', '.join(missing)}, not installed",
                remedy=f"apt-get install {debs}  (or in R: install.packages(c("
                + ", ".join(f'"{p}"' for p in missing)
                + "))",
            )
        self._captured("attaching R packages", "attach_packages", names)

    def versions(self, packages: Iterable[str]) -> dict[str, str]:
        """R's version string and the versions of ``packages``."""
        out = self._call("versions", self._ro.StrVector(list(packages)))
        return {str(k): str(v[0]) for k, v in zip(out.names, out, strict=True)}

    # --- data ---------------------------------------------------------------------------------

    def to_r(self, frame: pd.DataFrame) -> Any:
        """Convert a DataFrame to an R ``data.frame`` (see the module docstring for the rules).

        Raises
        ------
        DataError
            For a column type R cannot receive faithfully.
        """
        ro = self._ro
        cols = [self._column(str(name), frame[name]) for name in frame.columns]
        with self._conversion():
            r_cols = ro.ListVector.from_length(len(cols))
            for i, col in enumerate(cols):
                r_cols[i] = col
        return self._call(
            "build_frame",
            r_cols,
            ro.StrVector([str(c) for c in frame.columns]),
            ro.IntVector([len(frame)]),
        )

    def _column(self, name: str, series: pd.Series) -> Any:
        ro = self._ro
        na = np.flatnonzero(series.isna().to_numpy()) + 1
        parts: dict[str, Any] = {"na": ro.IntVector(na.tolist())}
        dtype = series.dtype
        if isinstance(dtype, pd.CategoricalDtype):
            levels = [str(c) for c in dtype.categories]
            if len(set(levels)) != len(levels):
                raise DataError(
                    f"column {name!r}: categories are not distinct as strings", column=name
                )
            codes = series.cat.codes.to_numpy(np.int64) + 1
            codes[codes == 0] = 1  # NA positions, overwritten in R
            parts.update(
                kind="factor",
                values=ro.IntVector(codes.tolist()),
                levels=ro.StrVector(levels),
                ordered=ro.BoolVector([bool(dtype.ordered)]),
            )
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            stamps = pd.DatetimeIndex(series)
            if stamps.tz is not None:
                stamps = stamps.tz_convert("UTC").tz_localize(None)
            days = np.asarray((stamps - pd.Timestamp(0)) / pd.Timedelta(days=1), dtype=float)
            whole = bool(np.all(np.isnan(days) | (days == np.floor(days))))
            parts.update(
                kind="Date" if whole else "POSIXct",
                values=ro.FloatVector(np.nan_to_num(days if whole else days * 86400.0)),
            )
        else:
            parts.update(kind="vector", values=self._values(name, series))
        with self._conversion():
            return ro.ListVector(parts)

    def _values(self, name: str, series: pd.Series) -> Any:
        ro = self._ro
        mask = series.isna().to_numpy()
        kind = pd.api.types.infer_dtype(series, skipna=True)
        if pd.api.types.is_bool_dtype(series.dtype) or kind == "boolean":
            return ro.BoolVector(
                [bool(v) if not m else False for v, m in zip(series, mask, strict=True)]
            )
        numeric = pd.api.types.is_numeric_dtype(series.dtype) or kind in _NUMERIC_KINDS
        if numeric and not kind.startswith("complex"):
            values = series.to_numpy(dtype=float, na_value=np.nan)
            filled = np.where(mask, 0.0, values)
            if kind == "integer" and (len(filled) == 0 or np.abs(filled).max() <= _R_INT_MAX):
                return ro.IntVector(filled.astype(np.int64).tolist())
            return ro.FloatVector(filled)
        if kind == "string":
            return ro.StrVector(["" if m else str(v) for v, m in zip(series, mask, strict=True)])
        raise DataError(
            f"column {name!r} has type {series.dtype} ({kind}), which the parity harness cannot "
            "pass to R faithfully",
            column=name,
            remedy="convert it to numbers, strings or a pandas Categorical first",
        )

    def from_r(self, frame: Any) -> pd.DataFrame:
        """Convert an R ``data.frame`` to pandas (factors → ``Categorical``, ``NA`` kept)."""
        parts = self._call("frame_parts", frame)
        names = _strings(parts.rx2("names"))
        columns = {
            name: _column_from_r(col) for name, col in zip(names, parts.rx2("cols"), strict=True)
        }
        return pd.DataFrame(columns)

    def environment(self, frames: Mapping[str, pd.DataFrame]) -> Any:
        """A new R environment with each frame bound under its name."""
        converted = {name: self.to_r(df) for name, df in frames.items()}
        with self._conversion():
            r_frames = self._ro.ListVector(converted)
        return self._call("new_env", r_frames)

    # --- calls --------------------------------------------------------------------------------

    def parse_calls(self, code: str, functions: Mapping[str, str]) -> ParsedCode:
        """Find the model calls in R code and match their arguments with ``match.call``.

        Parameters
        ----------
        code
            R source: one call or a script.
        functions
            Bare function name → qualified R function (``{"lmer": "lme4::lmer"}``).

        Raises
        ------
        RCallError
            If R cannot parse the code.
        """
        with self._conversion():
            fns = self._ro.ListVector({k: self._ro.StrVector([v]) for k, v in functions.items()})
        out, _, _ = self._captured("parsing the R code", "parse_calls", code, fns)
        calls = []
        for c in out.rx2("calls"):
            name = _strings(c.rx2("name"))[0]
            arg_names = _strings(c.rx2("arg_names"))
            arg_text = _strings(c.rx2("arg_text"))
            calls.append(
                ModelCall(
                    name=name,
                    function=str(c.rx2("fun")[0]),
                    source=str(c.rx2("source")[0]),
                    args=dict(zip(arg_names, arg_text, strict=True)),
                )
            )
        return ParsedCode(tuple(calls), tuple(_strings(out.rx2("skipped"))))

    def _named(self, args: Mapping[str, str]) -> Any:
        with self._conversion():
            vec = self._ro.StrVector(list(args.values()))
            vec.names = self._ro.StrVector(list(args.keys()))
        return vec

    def fit(self, call: ModelCall, qualified: str, env: Any) -> RFit:
        """Evaluate a model call in R with the data bound by name in ``env``.

        Parameters
        ----------
        call
            The call (its matched arguments are evaluated, not its source text).
        qualified
            The qualified R function, e.g. ``"lme4::lmer"``.
        env
            From :meth:`environment`.

        Raises
        ------
        RCallError
            If R fails.
        """
        value, warnings, messages = self._captured(
            call.label, "fit_model", qualified, self._named(call.args), env
        )
        return RFit(call, value, tuple(warnings), tuple(messages))

    def evaluate_argument(self, text: str, data_name: str, env: Any) -> np.ndarray:
        """Evaluate an argument (``weights = rep(1:3, 20)``) in R with the data in scope."""
        value, _, _ = self._captured(text, "eval_arg", text, data_name, env)
        return np.array(value, dtype=float)

    def evaluate_family(self, text: str, data_name: str, env: Any) -> dict[str, str]:
        """Evaluate a ``family`` argument as ``glmer`` does (a family, its constructor or name).

        Returns
        -------
        dict
            ``{"family": ..., "link": ...}`` with R's names (``"Gamma"``, ``"1/mu^2"``).
        """
        value, _, _ = self._captured(f"family = {text}", "eval_family", text, data_name, env)
        return {"family": str(value.rx2("family")[0]), "link": str(value.rx2("link")[0])}

    def deviance_at(
        self, call: ModelCall, qualified: str, env: Any, thetas: Sequence[Sequence[float]]
    ) -> list[float]:
        """R's deviance function (``devFunOnly = TRUE``) evaluated at each θ (``(θ, β)`` for a
        glmer fit with ``nAGQ >= 1``)."""
        with self._conversion():
            r_thetas = self._ro.ListVector.from_length(len(thetas))
            for i, theta in enumerate(thetas):
                r_thetas[i] = self._ro.FloatVector([float(t) for t in theta])
        value, _, _ = self._captured(
            f"the deviance function of {call.label}",
            "devfun_at",
            qualified,
            self._named(call.args),
            env,
            r_thetas,
        )
        return [float(v) for v in value]

    # --- results of lme4 ----------------------------------------------------------------------

    def summarize_merMod(self, fit: RFit, versions: Mapping[str, str]) -> FitSummary:
        """The :class:`FitSummary` of an lme4 fit."""
        out = self._call("summarize_merMod", fit.handle)
        get = out.rx2
        fixef_names = _strings(get("fixef_names"))
        return FitSummary(
            model_class=fit.call.function,
            fixef=pd.Series(_floats(get("fixef")), index=fixef_names, dtype=float),
            se=pd.Series(_floats(get("se")), index=fixef_names, dtype=float),
            loglik=LogLik(float(get("loglik")[0]), int(get("df")[0]), int(get("nobs")[0])),
            theta=pd.Series(_floats(get("theta")), index=_strings(get("theta_names")), dtype=float),
            sigma=float(get("sigma")[0]),
            reml=bool(get("reml")[0]),
            varcorr=pd.DataFrame(
                {
                    "grp": _strings(get("vc_grp")),
                    "var1": _strings(get("vc_var1")),
                    "var2": _strings(get("vc_var2")),
                    "vcov": _floats(get("vc_vcov")),
                    "sdcor": _floats(get("vc_sdcor")),
                }
            ),
            ranef=pd.DataFrame(
                {
                    "grpvar": _strings(get("re_grpvar")),
                    "term": _strings(get("re_term")),
                    "grp": _strings(get("re_grp")),
                    "condval": _floats(get("re_condval")),
                    "condsd": _floats(get("re_condsd")),
                }
            ),
            is_singular=bool(get("singular")[0]),
            converged=bool(get("converged")[0]),
            messages=tuple(dict.fromkeys([*fit.messages, *_strings(get("conv_messages"))])),
            warnings=fit.warnings,
            versions=dict(versions),
        )

    def ddf_merMod(self, fit: RFit, anova_type: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """lmerTest's coefficient and ``anova(type = anova_type)`` tables of an lmer fit.

        Satterthwaite always; Kenward–Roger (pbkrtest) for REML fits, the only ones lmerTest
        gives it for.  Methods are named ``"satterthwaite"`` and ``"kenward-roger"``.

        Returns
        -------
        tuple of pandas.DataFrame
            Frames with the columns of :data:`~interlace.parity.schema.DDF_COLUMNS` and
            :data:`~interlace.parity.schema.ANOVA_COLUMNS`.

        Raises
        ------
        RCallError
            If lmerTest or pbkrtest fails.
        """
        value, _, _ = self._captured(
            f"the denominator-df tables of {fit.call.label}",
            "ddf_merMod",
            fit.handle,
            self._ro.IntVector([anova_type]),
        )

        def frame(part: Any, columns: Sequence[str]) -> pd.DataFrame:
            methods = [str(m).lower() for m in _strings(part.rx2("method"))]
            keys: dict[str, list[Any]] = {"method": methods, "term": _strings(part.rx2("term"))}
            if "type" in columns:
                keys["type"] = [float(anova_type)] * len(methods)
            numbers = {c: _floats(part.rx2(c)) for c in columns if c not in keys}
            return pd.DataFrame({**keys, **numbers}, columns=list(columns))

        return frame(value.rx2("coef"), DDF_COLUMNS), frame(value.rx2("anova"), ANOVA_COLUMNS)

    def design_merMod(self, fit: RFit) -> DesignSummary:
        """The design (``getME``: X, Zt, Lind, lower, cnms) of an lme4 fit."""
        get = self._call("design_merMod", fit.handle).rx2
        n, p = (int(v) for v in get("X_dim"))
        q, nz = (int(v) for v in get("Zt_dim"))
        zt = sp.coo_matrix(
            (_floats(get("Zt_x")), (_ints(get("Zt_i")), _ints(get("Zt_j")))), shape=(q, nz)
        ).tocsc()
        sizes = _ints(get("cnms_sizes"))
        names = _strings(get("cnms_names"))
        starts = np.concatenate([[0], np.cumsum(sizes)])
        cnms = tuple(
            (str(g), tuple(str(x) for x in names[starts[i] : starts[i + 1]]))
            for i, g in enumerate(_strings(get("cnms_groups")))
        )
        return DesignSummary(
            X=_floats(get("X")).reshape((n, p), order="F"),
            X_names=tuple(_strings(get("X_names"))),
            Zt=zt,
            Lind=_ints(get("Lind")),
            lower=_floats(get("lower")),
            cnms=cnms,
        )


@cache
def bridge() -> RBridge:
    """The process-wide :class:`RBridge` (R is started on first use).

    Raises
    ------
    RUnavailableError
        If rpy2 or R is missing.
    """
    return RBridge()


# --- R vector → Python --------------------------------------------------------------------------


def _strings(vector: Any) -> list[Any]:
    """A character (or NULL) vector as a list of ``str``, ``NA`` → ``None``."""
    if getattr(vector, "typeof", None) is None or len(vector) == 0:
        return []
    na = importlib.import_module("rpy2.rinterface").NA_Character
    return [None if v is na else str(v) for v in vector]


def _floats(vector: Any) -> np.ndarray:
    """A numeric vector as floats; R's ``NA`` (a signalling NaN payload) → a quiet ``NaN``."""
    values = np.array(vector, dtype=float) if len(vector) else np.zeros(0)
    values[np.isnan(values)] = np.nan
    return values


def _ints(vector: Any) -> np.ndarray:
    return np.array(vector, dtype=np.int64) if len(vector) else np.zeros(0, dtype=np.int64)


def _column_from_r(col: Any) -> pd.Series | pd.Categorical:
    kind = str(col.rx2("kind")[0])
    values = col.rx2("values")
    if kind == "factor":
        codes = _ints(values)
        codes = np.where(codes == _R_NA_INTEGER, -1, codes - 1)
        return pd.Categorical.from_codes(
            codes,
            categories=pd.Index(_strings(col.rx2("levels"))),
            ordered=bool(col.rx2("ordered")[0]),
        )
    if kind == "character":
        return pd.Series(_strings(values), dtype=object)
    if kind in {"Date", "POSIXct"}:
        seconds = _floats(values) * (86400.0 if kind == "Date" else 1.0)
        return pd.Series(pd.to_datetime(seconds, unit="s"))
    if kind == "double":
        return pd.Series(_floats(values), dtype=float)
    if kind == "integer":
        raw = _ints(values)
        missing = raw == _R_NA_INTEGER
        if not missing.any():
            return pd.Series(raw, dtype=np.int64)
        return pd.Series(pd.array(raw, dtype="Int64")).mask(missing)
    na = importlib.import_module("rpy2.rinterface").NA_Logical
    items = list(values)
    if any(v is na for v in items):
        return pd.Series([pd.NA if v is na else bool(v) for v in items], dtype="boolean")
    return pd.Series([bool(v) for v in items], dtype=bool)
