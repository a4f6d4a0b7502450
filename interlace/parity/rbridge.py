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

import dataclasses
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
from interlace.parity.cox import RANEF_FIRST, coxme_covariance, coxme_summary
from interlace.parity.schema import (
    ANOVA_COLUMNS,
    DDF_COLUMNS,
    CoxLogLik,
    DesignSummary,
    FitSummary,
    LogLik,
    empty_anova,
)

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


#: R packages the harness uses that Debian does not package (install them from CRAN).
NOT_IN_DEBIAN = frozenset({"coxme"})


def debian_package(package: str) -> str | None:
    """The Debian/Ubuntu package of an R package (``lme4`` → ``r-cran-lme4``), if there is one."""
    if package in NOT_IN_DEBIAN:
        return None
    return "r-base" if package in {"stats", "base", "methods"} else f"r-cran-{package.lower()}"


def install_remedy(packages: Sequence[str]) -> str:
    """How to install R packages: their Debian packages where they exist, and CRAN."""
    debs = [d for d in (debian_package(p) for p in packages) if d is not None]
    cran = "install.packages(c(" + ", ".join(f'"{p}"' for p in packages) + "))"
    if not debs:
        names = ", ".join(p for p in packages if p in NOT_IN_DEBIAN)
        return f"in R: {cran}  ({names}: not packaged for Debian)"
    return f"apt-get install {' '.join(debs)}  (or in R: {cran})"


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

  eval_string <- function(text, data_name, env)
    capture(as.character(eval(parse(text = text)[[1]], get(data_name, envir = env), env))[1])

  eval_subset <- function(text, data_name, env) capture({
    d <- get(data_name, envir = env)
    keep <- eval(parse(text = text)[[1]], d, env)
    if (!is.logical(keep) && !is.numeric(keep))
      stop("subset = ", text, " is not logical or numeric")
    rows <- seq_len(nrow(d))[keep]
    as.integer(rows[!is.na(rows)])
  })

  eval_na_action <- function(text, data_name, env) capture({
    f <- eval(parse(text = text)[[1]], get(data_name, envir = env), env)
    if (is.character(f)) f <- get(f, mode = "function", envir = env)
    known <- c("na.omit", "na.exclude", "na.fail", "na.pass")
    hit <- known[vapply(known, function(k) identical(f, get(k, envir = asNamespace("stats"))),
                        logical(1))]
    if (!length(hit)) stop("na.action = ", text, " is not one of ", paste(known, collapse = ", "))
    hit[1]
  })

  eval_contrasts <- function(text, data_name, env) capture({
    x <- eval(parse(text = text)[[1]], get(data_name, envir = env), env)
    if (!is.list(x) || is.null(names(x)) || any(names(x) == ""))
      stop("contrasts = ", text, " is not a named list")
    codings <- c("contr.treatment", "contr.sum", "contr.helmert", "contr.poly", "contr.SAS")
    lapply(x, function(v) {
      if (is.function(v)) {
        same <- function(k) identical(v, get(k, envir = asNamespace("stats")))
        hit <- codings[vapply(codings, same, logical(1))]
        if (!length(hit)) stop("contrasts = ", text, ": a function other than ",
                               paste(codings, collapse = ", "))
        return(list(coding = hit[1]))
      }
      if (is.character(v)) return(list(coding = v[1]))
      m <- as.matrix(v)
      list(matrix = as.numeric(m), nrow = nrow(m),
           colnames = if (is.null(colnames(m))) character(0) else colnames(m))
    })
  })

  nb_theta <- function(m) lme4::getME(m, "glmer.nb.theta")

  lower_pairs <- function(k) {
    idx <- which(lower.tri(diag(k), diag = TRUE), arr.ind = TRUE)
    idx[order(idx[, 2], idx[, 1]), , drop = FALSE]
  }

  summarize_clmm <- function(m) {
    coefs <- c(names(m$alpha), names(m$beta))
    v <- as.matrix(stats::vcov(m))
    ll <- stats::logLik(m)
    theta <- numeric(0); theta_names <- character(0)
    grp <- var1 <- var2 <- character(0); vcov <- sdcor <- numeric(0)
    for (g in names(m$ST)) {
      L <- m$ST[[g]]; nm <- rownames(L); k <- nrow(L)
      pairs <- lower_pairs(k)
      theta <- c(theta, L[pairs])
      theta_names <- c(theta_names, ifelse(pairs[, 1] == pairs[, 2],
        paste0(g, ".", nm[pairs[, 1]]), paste0(g, ".", nm[pairs[, 1]], ".", nm[pairs[, 2]])))
      S <- L %*% t(L); sd <- sqrt(diag(S))
      off <- pairs[pairs[, 1] != pairs[, 2], , drop = FALSE]
      grp <- c(grp, rep(g, k + nrow(off))); var1 <- c(var1, nm, nm[off[, 2]])
      var2 <- c(var2, rep(NA_character_, k), nm[off[, 1]])
      vcov <- c(vcov, diag(S), S[off])
      sdcor <- c(sdcor, sd, S[off] / (sd[off[, 1]] * sd[off[, 2]]))
    }
    re <- ordinal::ranef(m)
    cv <- tryCatch(ordinal::condVar(m), error = function(e) NULL)
    re_long <- lapply(names(re), function(g) {
      d <- re[[g]]
      lapply(names(d), function(term) {
        sdv <- if (is.list(cv) && is.data.frame(cv[[g]])) sqrt(cv[[g]][[term]])
               else rep(NA_real_, nrow(d))
        list(grpvar = rep(g, nrow(d)), term = rep(term, nrow(d)), grp = rownames(d),
             condval = d[[term]], condsd = sdv)
      })
    })
    re_long <- unlist(re_long, recursive = FALSE)
    pick <- function(k) unlist(lapply(re_long, `[[`, k))
    list(fixef_names = names(m$beta), fixef = unname(m$beta),
         alpha_names = names(m$alpha), alpha = unname(m$alpha),
         se_names = coefs, se = unname(sqrt(diag(v))[coefs]),
         theta_names = theta_names, theta = theta,
         loglik = as.numeric(ll), df = as.integer(attr(ll, "df")),
         nobs = as.integer(round(stats::nobs(m))),
         vc_grp = grp, vc_var1 = var1, vc_var2 = var2, vc_vcov = vcov, vc_sdcor = sdcor,
         re_grpvar = as.character(pick("grpvar")), re_term = as.character(pick("term")),
         re_grp = as.character(pick("grp")), re_condval = as.numeric(pick("condval")),
         re_condsd = as.numeric(pick("condsd")),
         converged = identical(as.integer(m$optRes$convergence), 0L),
         conv_messages = as.character(m$optRes$message))
  }

  clmm_nll_at <- function(fun, args, env, pars) capture({
    e <- qualified_call(fun, args)
    e$doFit <- FALSE
    vapply(pars, function(p) {
      rho <- eval(e, env)
      nfe <- rho$dims$nfepar
      fe <- p[seq_len(nfe)]
      theta <- p[-seq_len(nfe)]
      if (!is.null(rho$tau.names)) {
        f <- if (rho$nAGQ > 1) ordinal:::getNAGQ.ssr
             else if (rho$nAGQ < 0) ordinal:::getNGHQ.ssr else ordinal:::getNLA.ssr
        return(f(rho, c(fe, log(theta))))
      }
      pos <- 0L
      ST <- lapply(rho$ST, function(L) {
        pairs <- lower_pairs(nrow(L))
        L[] <- 0
        L[pairs] <- theta[pos + seq_len(nrow(pairs))]
        pos <<- pos + nrow(pairs)
        L
      })
      ordinal:::getNLA(rho, c(fe, ordinal:::ST2par(ST)))
    }, numeric(1))
  })

  eval_random <- function(text, data_name, env) capture({
    x <- eval(parse(text = text)[[1]], get(data_name, envir = env), env)
    re <- rev(as.list(nlme::reStruct(x)))  # reStruct holds the levels innermost first
    kind <- function(p) if (inherits(p, "pdDiag")) "pdDiag"
                        else if (inherits(p, "pdSymm")) "pdSymm" else class(p)[1]
    lapply(re, function(p) list(formula = one_line(stats::formula(p)), kind = kind(p)))
  })

  eval_correlation <- function(text, data_name, env) capture({
    cs <- eval(parse(text = text)[[1]], get(data_name, envir = env), env)
    if (is.null(cs)) return(list())
    if (!inherits(cs, "corStruct")) stop("correlation = ", text, " is not a corStruct")
    # an uninitialised corCompSymm holds its value as given (coef() needs the group sizes)
    value <- tryCatch(unname(stats::coef(cs, unconstrained = FALSE))[1],
                      error = function(e) as.numeric(unclass(cs))[1])
    list(class = class(cs)[1], form = one_line(attr(cs, "formula")), value = value,
         fixed = isTRUE(attr(cs, "fixed")))
  })

  eval_varfunc <- function(text, data_name, env) capture({
    x <- eval(parse(text = text)[[1]], get(data_name, envir = env), env)
    if (is.null(x)) return(list())
    vf <- nlme::varFunc(x)  # as lme reads weights: a one-sided formula is varFixed
    fixed <- attr(vf, "fixed"); form <- attr(vf, "formula"); raw <- unclass(vf)
    list(class = class(vf)[1], form = if (is.null(form)) "" else one_line(form),  # varComb: none
         value = if (is.numeric(raw)) as.numeric(raw) else numeric(0),
         fixed = !is.null(fixed) && !isFALSE(fixed))
  })

  summarize_lme <- function(m) {
    fe <- nlme::fixef(m)
    ll <- stats::logLik(m)
    re <- rev(as.list(m$modelStruct$reStruct))
    grp <- var1 <- var2 <- character(0); vcov <- sdcor <- numeric(0)
    for (g in names(re)) {
      S <- as.matrix(re[[g]]) * m$sigma^2; nm <- colnames(S); k <- nrow(S); sd <- sqrt(diag(S))
      pairs <- if (inherits(re[[g]], "pdDiag") || k < 2) matrix(0L, 0L, 2L)
               else which(upper.tri(S), arr.ind = TRUE)
      pairs <- pairs[order(pairs[, 1], pairs[, 2]), , drop = FALSE]
      grp <- c(grp, rep(g, k + nrow(pairs))); var1 <- c(var1, nm, nm[pairs[, 1]])
      var2 <- c(var2, rep(NA_character_, k), nm[pairs[, 2]])
      vcov <- c(vcov, diag(S), S[pairs])
      sdcor <- c(sdcor, sd, S[pairs] / (sd[pairs[, 1]] * sd[pairs[, 2]]))
    }
    rf <- nlme::ranef(m)
    if (is.data.frame(rf)) rf <- stats::setNames(list(rf), names(re))
    re_long <- unlist(lapply(names(rf), function(g) lapply(names(rf[[g]]), function(term) {
      d <- rf[[g]]
      list(grpvar = rep(g, nrow(d)), term = rep(term, nrow(d)), grp = rownames(d),
           condval = d[[term]])
    })), recursive = FALSE)
    pick <- function(k) unlist(lapply(re_long, `[[`, k))
    cs <- m$modelStruct$corStruct
    cor <- if (is.null(cs)) numeric(0) else stats::coef(cs, unconstrained = FALSE)
    vs <- m$modelStruct$varStruct
    vf <- if (is.null(vs)) numeric(0)
          else stats::coef(vs, unconstrained = FALSE, allCoef = TRUE)
    list(fixef_names = names(fe), fixef = unname(fe),
         se = unname(sqrt(diag(as.matrix(stats::vcov(m))))), sigma = m$sigma,
         loglik = as.numeric(ll), df = as.integer(attr(ll, "df")),
         nobs = as.integer(stats::nobs(m)), reml = identical(m$method, "REML"),
         vc_grp = c(grp, "Residual"), vc_var1 = c(var1, NA_character_),
         vc_var2 = c(var2, NA_character_), vc_vcov = c(vcov, m$sigma^2),
         vc_sdcor = c(sdcor, m$sigma),
         re_grpvar = as.character(pick("grpvar")), re_term = as.character(pick("term")),
         re_grp = as.character(pick("grp")), re_condval = as.numeric(pick("condval")),
         re_condsd = rep(NA_real_, length(pick("condval"))),
         cor_names = names(cor), cor = unname(cor),
         varfunc_names = as.character(names(vf)), varfunc = unname(vf))
  }

  ddf_lme <- function(m) capture({
    tt <- summary(m)$tTable
    list(method = rep("nlme", nrow(tt)), term = rownames(tt), se = unname(tt[, "Std.Error"]),
         df = unname(tt[, "DF"]), t = unname(tt[, "t-value"]), p = unname(tt[, "p-value"]))
  })

  summarize_glmmTMB <- function(m) {
    fe <- glmmTMB::fixef(m)
    v <- stats::vcov(m)
    full <- tryCatch(stats::vcov(m, full = TRUE), error = function(e) matrix(0, 0, 0))
    se_of <- function(x) if (is.null(x)) numeric(0) else sqrt(diag(as.matrix(x)))
    d_names <- grep("^d~", colnames(full), value = TRUE)
    se <- c(se_of(v$cond), se_of(v$zi), sqrt(diag(full)[d_names]))
    ll <- stats::logLik(m)
    par <- m$fit$par
    th <- unname(par[names(par) %in% c("theta", "thetazi")])
    th_names <- make.unique(names(par)[names(par) %in% c("theta", "thetazi")], sep = ".")
    vc <- glmmTMB::VarCorr(m)$cond
    grp <- var1 <- var2 <- character(0); vcov <- sdcor <- numeric(0)
    for (g in names(vc)) {
      S <- as.matrix(vc[[g]]); nm <- colnames(S); k <- nrow(S); sd <- sqrt(diag(S))
      pairs <- if (k < 2) matrix(0L, 0L, 2L) else which(upper.tri(S), arr.ind = TRUE)
      pairs <- pairs[order(pairs[, 1], pairs[, 2]), , drop = FALSE]
      grp <- c(grp, rep(g, k + nrow(pairs))); var1 <- c(var1, nm, nm[pairs[, 1]])
      var2 <- c(var2, rep(NA_character_, k), nm[pairs[, 2]])
      vcov <- c(vcov, diag(S), S[pairs])
      sdcor <- c(sdcor, sd, S[pairs] / (sd[pairs[, 1]] * sd[pairs[, 2]]))
    }
    if (isTRUE(attr(vc, "useSc"))) {
      sc <- attr(vc, "sc")
      grp <- c(grp, "Residual"); var1 <- c(var1, NA_character_); var2 <- c(var2, NA_character_)
      vcov <- c(vcov, sc^2); sdcor <- c(sdcor, sc)
    }
    re <- as.data.frame(glmmTMB::ranef(m, condVar = TRUE))
    re <- re[re$component == "cond", , drop = FALSE]
    list(fixef_names = names(fe$cond), fixef = unname(fe$cond),
         zi_names = as.character(names(fe$zi)), zi = unname(fe$zi),
         disp_names = as.character(names(fe$disp)), disp = unname(fe$disp),
         se_names = as.character(names(se)), se = unname(se),
         theta_names = th_names, theta = th, sigma = as.numeric(stats::sigma(m)),
         loglik = as.numeric(ll), df = as.integer(attr(ll, "df")),
         nobs = as.integer(attr(ll, "nobs")), reml = isTRUE(m$modelInfo$REML),
         vc_grp = grp, vc_var1 = var1, vc_var2 = var2, vc_vcov = vcov, vc_sdcor = sdcor,
         re_grpvar = as.character(re$grpvar), re_term = as.character(re$term),
         re_grp = as.character(re$grp), re_condval = re$condval, re_condsd = re$condsd,
         converged = identical(as.integer(m$fit$convergence), 0L) && isTRUE(m$sdr$pdHess),
         conv_messages = as.character(m$fit$message))
  }

  tmb_fn_at <- function(fun, args, env, pars) capture({
    fit <- eval(qualified_call(fun, args), env)
    vapply(pars, function(p) as.numeric(fit$obj$fn(as.numeric(p))), numeric(1))
  })

  eval_formula <- function(text, data_name, env) capture({
    f <- eval(parse(text = text)[[1]], get(data_name, envir = env), env)
    if (!inherits(f, "formula")) stop(text, " is not a formula")
    one_line(f)
  })

  summarize_coxme <- function(m, n_ranef) {
    fe <- m$coefficients
    nfrail <- nrow(m$variance) - length(fe)
    block <- function(x) if (is.matrix(x)) x else matrix(x, ncol = 1L)
    list(fixef_names = names(fe), fixef = unname(fe),
         se = unname(sqrt(diag(as.matrix(m$variance))[nfrail + seq_along(fe)])),
         loglik = as.numeric(m$loglik), n = as.integer(m$n),
         vc = lapply(m$vcoef, function(v) list(values = as.numeric(block(v)), k = NROW(block(v)),
                                               names = if (is.matrix(v)) colnames(v)
                                                       else character(0))),
         re = lapply(m$frail, function(r) {
           b <- block(r)
           as.numeric(b[seq_len(min(n_ranef, nrow(b))), , drop = FALSE])
         }))
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
            raise RUnavailableError(
                f"live parity mode needs the R package(s) {', '.join(missing)}, not installed",
                remedy=install_remedy(missing),
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

    def evaluate_string(self, text: str, data_name: str, env: Any) -> str:
        """Evaluate a character argument (``link = "probit"``) in R with the data in scope."""
        value, _, _ = self._captured(text, "eval_string", text, data_name, env)
        return str(value[0])

    def evaluate_subset(self, text: str, data_name: str, env: Any) -> np.ndarray:
        """The 1-based rows that ``subset = text`` keeps, as ``model.frame`` reads it.

        A logical vector keeps its ``TRUE`` rows (``NA`` drops the row, as the row of ``NA``
        it selects is dropped by ``na.action``); a numeric one selects rows by position
        (negative positions remove rows, repeated ones repeat them).
        """
        value, _, _ = self._captured(f"subset = {text}", "eval_subset", text, data_name, env)
        return _ints(value)

    def evaluate_na_action(self, text: str, data_name: str, env: Any) -> str:
        """The name of the ``stats`` function an ``na.action`` argument evaluates to."""
        value, _, _ = self._captured(f"na.action = {text}", "eval_na_action", text, data_name, env)
        return str(value[0])

    def evaluate_contrasts(self, text: str, data_name: str, env: Any) -> dict[str, Any]:
        """A ``contrasts`` list as plain data: variable → coding name or contrast matrix.

        Returns
        -------
        dict
            ``{"f": {"coding": "contr.sum"}}`` for a coding given by name or as a ``stats``
            function; ``{"f": {"matrix": [[...], ...], "colnames": [...]}}`` for a matrix
            (rows are the factor's levels; ``colnames`` empty when R has none).
        """
        value, _, _ = self._captured(f"contrasts = {text}", "eval_contrasts", text, data_name, env)
        out: dict[str, Any] = {}
        for name, entry in zip(_strings(value.names), value, strict=True):
            keys = _strings(entry.names)
            if "coding" in keys:
                out[name] = {"coding": str(entry.rx2("coding")[0])}
                continue
            nrow = int(entry.rx2("nrow")[0])
            matrix = _floats(entry.rx2("matrix")).reshape((nrow, -1), order="F")
            out[name] = {"matrix": matrix.tolist(), "colnames": _strings(entry.rx2("colnames"))}
        return out

    def evaluate_random(self, text: str, data_name: str, env: Any) -> dict[str, dict[str, str]]:
        """nlme's ``random`` argument as ``reStruct`` reads it, outer level first.

        Returns
        -------
        dict
            Grouping factor → ``{"formula": "~age", "kind": "pdSymm"}``: the level's one-sided
            formula and its pdMat class (``"pdSymm"`` for ``pdSymm``, ``pdLogChol`` and other
            general classes, ``"pdDiag"``, else nlme's class name).  ``~ x | a/b`` gives the
            levels ``a`` then ``b``, each with ``~x``.
        """
        value, _, _ = self._captured(f"random = {text}", "eval_random", text, data_name, env)
        return {
            str(group): {
                "formula": str(level.rx2("formula")[0]),
                "kind": str(level.rx2("kind")[0]),
            }
            for group, level in zip(_strings(value.names), value, strict=True)
        }

    def evaluate_correlation(self, text: str, data_name: str, env: Any) -> dict[str, Any] | None:
        """nlme's ``correlation`` argument: its class, ``form``, starting value and ``fixed``.

        Returns
        -------
        dict or None
            ``{"class": "corCAR1", "form": "~Time | Rat", "value": 0.2, "fixed": False}``
            (``value`` on nlme's natural scale); ``None`` for ``correlation = NULL``.
        """
        value, _, _ = self._captured(
            f"correlation = {text}", "eval_correlation", text, data_name, env
        )
        if len(value) == 0:
            return None
        return {
            "class": str(value.rx2("class")[0]),
            "form": str(value.rx2("form")[0]),
            "value": float(value.rx2("value")[0]),
            "fixed": bool(value.rx2("fixed")[0]),
        }

    def evaluate_varfunc(self, text: str, data_name: str, env: Any) -> dict[str, Any] | None:
        """nlme's ``weights`` argument as ``lme`` reads it (``varFunc``): its class, ``form``,
        starting values and whether they are held fixed.

        Returns
        -------
        dict or None
            ``{"class": "varIdent", "form": "~1 | Sex", "value": [], "fixed": False}``
            (``value`` holds the starting values given, on nlme's unconstrained scale; a
            one-sided formula is class ``"varFixed"``); ``None`` for ``weights = NULL``.
        """
        value, _, _ = self._captured(f"weights = {text}", "eval_varfunc", text, data_name, env)
        if len(value) == 0:
            return None
        return {
            "class": str(value.rx2("class")[0]),
            "form": str(value.rx2("form")[0]),
            "value": _floats(value.rx2("value")).tolist(),
            "fixed": bool(value.rx2("fixed")[0]),
        }

    def evaluate_formula(self, text: str, data_name: str, env: Any) -> str:
        """Evaluate a formula argument (``zi = ~mined``, ``dispformula = df``) and deparse it."""
        value, _, _ = self._captured(text, "eval_formula", text, data_name, env)
        return str(value[0])

    def deviance_at(
        self, call: ModelCall, qualified: str, env: Any, thetas: Sequence[Sequence[float]]
    ) -> list[float]:
        """R's deviance function (``devFunOnly = TRUE``) evaluated at each θ (``(θ, β)`` for a
        glmer fit with ``nAGQ >= 1``)."""
        return self._objective_at("devfun_at", call, qualified, env, thetas)

    def clmm_objective_at(
        self, call: ModelCall, qualified: str, env: Any, parameters: Sequence[Sequence[float]]
    ) -> list[float]:
        """ordinal's negative log-likelihood at each ``(α, β, θ)``, θ in lme4's layout.

        Each point is evaluated in a fresh ``clmm(..., doFit = FALSE)`` environment (the
        conditional modes start from zero), by ordinal's own objective: ``getNLA.ssr`` or
        ``getNAGQ.ssr`` for one scalar random term (where ordinal's parameter is log θ),
        ``getNLA`` otherwise (θ turned into ordinal's ``ST`` parameters by ``ST2par``).
        """
        return self._objective_at("clmm_nll_at", call, qualified, env, parameters)

    def tmb_objective_at(
        self, call: ModelCall, qualified: str, env: Any, parameters: Sequence[Sequence[float]]
    ) -> list[float]:
        """glmmTMB's objective ``fit$obj$fn(par)`` (TMB's Laplace ``−log L``) at each ``par``.

        ``par`` is in glmmTMB's order (``beta, betazi, betad, theta, thetazi``; no ``beta``
        under REML).  The call is fitted once and its TMB object evaluated at each point.
        """
        return self._objective_at("tmb_fn_at", call, qualified, env, parameters)

    def _objective_at(
        self,
        helper: str,
        call: ModelCall,
        qualified: str,
        env: Any,
        points: Sequence[Sequence[float]],
    ) -> list[float]:
        with self._conversion():
            r_points = self._ro.ListVector.from_length(len(points))
            for i, point in enumerate(points):
                r_points[i] = self._ro.FloatVector([float(t) for t in point])
        value, _, _ = self._captured(
            f"the objective function of {call.label}",
            helper,
            qualified,
            self._named(call.args),
            env,
            r_points,
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
            varcorr=self._varcorr(get),
            ranef=self._ranef(get),
            is_singular=bool(get("singular")[0]),
            converged=bool(get("converged")[0]),
            messages=tuple(dict.fromkeys([*fit.messages, *_strings(get("conv_messages"))])),
            warnings=fit.warnings,
            versions=dict(versions),
        )

    def summarize_glmer_nb(self, fit: RFit, versions: Mapping[str, str]) -> FitSummary:
        """The :class:`FitSummary` of a ``glmer.nb`` fit: lme4's, with the negative binomial θ."""
        nb_theta = float(self._call("nb_theta", fit.handle)[0])
        return dataclasses.replace(self.summarize_merMod(fit, versions), nb_theta=nb_theta)

    def summarize_clmm(self, fit: RFit, versions: Mapping[str, str]) -> FitSummary:
        """The :class:`FitSummary` of an ``ordinal::clmm`` fit.

        ``fixef`` is ``fit$beta``, ``thresholds`` ``fit$alpha``, ``se`` the square roots of
        ``diag(vcov(fit))`` for α then β, θ the lower triangles (by columns) of ``fit$ST``
        (lme4's layout; clmm has no residual scale, so ``ST`` is the covariance factor),
        ``varcorr`` built from ``ST`` in the layout of lme4's ``as.data.frame(VarCorr())``,
        ``ranef`` from ``ranef(fit)`` with ``condsd`` from ``condVar(fit)`` where ordinal gives
        it per level.
        """
        get = self._call("summarize_clmm", fit.handle).rx2
        return FitSummary(
            model_class=fit.call.function,
            fixef=pd.Series(_floats(get("fixef")), index=_strings(get("fixef_names")), dtype=float),
            se=pd.Series(_floats(get("se")), index=_strings(get("se_names")), dtype=float),
            loglik=LogLik(float(get("loglik")[0]), int(get("df")[0]), int(get("nobs")[0])),
            theta=pd.Series(_floats(get("theta")), index=_strings(get("theta_names")), dtype=float),
            varcorr=self._varcorr(get),
            ranef=self._ranef(get),
            converged=bool(get("converged")[0]),
            thresholds=pd.Series(
                _floats(get("alpha")), index=_strings(get("alpha_names")), dtype=float
            ),
            messages=fit.messages,
            warnings=fit.warnings,
            versions=dict(versions),
        )

    def summarize_glmmTMB(self, fit: RFit, versions: Mapping[str, str]) -> FitSummary:
        """The :class:`FitSummary` of a ``glmmTMB::glmmTMB`` fit.

        ``fixef``, ``zi`` and ``disp`` are ``fixef(fit)$cond``, ``$zi`` and ``$disp``; ``se``
        the square roots of the diagonals of ``vcov(fit)$cond`` and ``$zi`` and of the ``d~``
        rows of ``vcov(fit, full = TRUE)`` (glmmTMB's labels: ``zi~x``, ``d~x``); θ the
        ``theta`` and ``thetazi`` entries of ``fit$fit$par`` (log standard deviations and
        glmmTMB's correlation parameters); ``sigma`` is ``sigma(fit)`` (``None`` where it is
        ``NA``: a dispersion model with covariates); ``varcorr`` is ``VarCorr(fit)$cond`` in
        the layout of lme4's ``as.data.frame(VarCorr())`` (the zero covariances of ``diag``
        terms included, as glmmTMB's matrices hold them; a ``Residual`` row where glmmTMB has
        a residual scale, gaussian); ``ranef`` the conditional model's rows of ``ranef(fit,
        condVar = TRUE)``; ``converged`` is optimiser convergence with a positive definite
        Hessian.
        """
        get = self._call("summarize_glmmTMB", fit.handle).rx2
        return FitSummary(
            model_class=fit.call.function,
            fixef=pd.Series(_floats(get("fixef")), index=_strings(get("fixef_names")), dtype=float),
            se=pd.Series(_floats(get("se")), index=_strings(get("se_names")), dtype=float),
            loglik=LogLik(float(get("loglik")[0]), int(get("df")[0]), int(get("nobs")[0])),
            theta=pd.Series(_floats(get("theta")), index=_strings(get("theta_names")), dtype=float),
            sigma=_finite_or_none(float(get("sigma")[0])),
            reml=bool(get("reml")[0]),
            varcorr=self._varcorr(get),
            ranef=self._ranef(get),
            converged=bool(get("converged")[0]),
            zi=pd.Series(_floats(get("zi")), index=_strings(get("zi_names")), dtype=float),
            disp=pd.Series(_floats(get("disp")), index=_strings(get("disp_names")), dtype=float),
            messages=tuple(dict.fromkeys([*fit.messages, *_strings(get("conv_messages"))])),
            warnings=fit.warnings,
            versions=dict(versions),
        )

    def summarize_coxme(self, fit: RFit, versions: Mapping[str, str]) -> FitSummary:
        """The :class:`FitSummary` of a ``coxme::coxme`` fit (see :mod:`interlace.parity.cox`).

        From the fit's components, which coxme's accessors return: ``coefficients``
        (``fixef``), the fixed-effect block of ``variance`` (``vcov``), ``vcoef``
        (``VarCorr``), ``frail`` (``ranef``), ``loglik`` and ``n``.
        """
        out = self._call("summarize_coxme", fit.handle, self._ro.IntVector([RANEF_FIRST]))
        get = out.rx2
        names = _strings(get("fixef_names"))
        vc = {
            str(g): (
                _floats(v.rx2("values")).reshape((int(v.rx2("k")[0]), -1), order="F"),
                _strings(v.rx2("names")),
            )
            for g, v in zip(_strings(get("vc").names), get("vc"), strict=True)
        }
        re = {
            str(g): _floats(r).reshape((-1, vc[str(g)][0].shape[0]), order="F")
            for g, r in zip(_strings(get("re").names), get("re"), strict=True)
        }
        loglik = _floats(get("loglik"))
        return coxme_summary(
            model_class=fit.call.function,
            fixef=pd.Series(_floats(get("fixef")), index=names, dtype=float),
            se=pd.Series(_floats(get("se")), index=names, dtype=float),
            loglik=CoxLogLik(*(float(v) for v in loglik[:3])),
            events=int(get("n")[0]),
            varcorr={g: coxme_covariance(m) for g, (m, _) in vc.items()},
            names={g: n for g, (_, n) in vc.items()},
            ranef_first=re,
            messages=fit.messages,
            warnings=fit.warnings,
            versions=versions,
        )

    def summarize_lme(self, fit: RFit, versions: Mapping[str, str]) -> FitSummary:
        """The :class:`FitSummary` of an ``nlme::lme`` fit.

        ``se`` is ``sqrt(diag(vcov(fit)))`` (unadjusted for ML fits); ``loglik`` is
        ``logLik(fit)`` with its ``df`` and ``nobs(fit)`` (the number of observations: the
        ``nobs`` attribute of a REML ``logLik`` is ``N − p``); θ is absent (nlme has no lme4
        θ); ``varcorr`` holds each level's ``σ² · as.matrix(pdMat)`` in the layout of lme4's
        ``as.data.frame(VarCorr())``, outer level first (covariance rows except for
        ``pdDiag``), then the residual; ``ranef`` is ``ranef(fit)`` (nested levels labelled
        ``outer/inner``); ``correlation_params`` is ``coef(fit$modelStruct$corStruct,
        unconstrained = FALSE)``; ``varfunc_params`` is ``coef(fit$modelStruct$varStruct,
        unconstrained = FALSE, allCoef = TRUE)`` (the reference stratum of ``varIdent`` included,
        with ratio 1).
        """
        get = self._call("summarize_lme", fit.handle).rx2
        names = _strings(get("fixef_names"))
        cor = _floats(get("cor"))
        varfunc = _floats(get("varfunc"))
        return FitSummary(
            model_class=fit.call.function,
            fixef=pd.Series(_floats(get("fixef")), index=names, dtype=float),
            se=pd.Series(_floats(get("se")), index=names, dtype=float),
            loglik=LogLik(float(get("loglik")[0]), int(get("df")[0]), int(get("nobs")[0])),
            sigma=float(get("sigma")[0]),
            reml=bool(get("reml")[0]),
            varcorr=self._varcorr(get),
            ranef=self._ranef(get),
            correlation_params=pd.Series(cor, index=_strings(get("cor_names")), dtype=float)
            if cor.size
            else None,
            varfunc_params=pd.Series(varfunc, index=_strings(get("varfunc_names")), dtype=float)
            if varfunc.size
            else None,
            messages=fit.messages,
            warnings=fit.warnings,
            versions=dict(versions),
        )

    def ddf_lme(self, fit: RFit, anova_type: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """nlme's ``summary(fit)$tTable`` as a coefficient table with method ``"nlme"``.

        ``se`` is the table's standard error (inflated by ``sqrt(N/(N − p))`` for ML fits),
        ``df`` nlme's containment DF.  nlme's ``anova`` is not compared: the anova table
        returned has no rows (``anova_type`` is unused).
        """
        value, _, _ = self._captured(
            f"the coefficient table of {fit.call.label}", "ddf_lme", fit.handle
        )
        coef = pd.DataFrame(
            {
                "method": _strings(value.rx2("method")),
                "term": _strings(value.rx2("term")),
                **{c: _floats(value.rx2(c)) for c in DDF_COLUMNS[2:]},
            },
            columns=list(DDF_COLUMNS),
        )
        return coef, empty_anova()

    @staticmethod
    def _varcorr(get: Any) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "grp": _strings(get("vc_grp")),
                "var1": _strings(get("vc_var1")),
                "var2": _strings(get("vc_var2")),
                "vcov": _floats(get("vc_vcov")),
                "sdcor": _floats(get("vc_sdcor")),
            }
        )

    @staticmethod
    def _ranef(get: Any) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "grpvar": _strings(get("re_grpvar")),
                "term": _strings(get("re_term")),
                "grp": _strings(get("re_grp")),
                "condval": _floats(get("re_condval")),
                "condsd": _floats(get("re_condsd")),
            }
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


def _finite_or_none(value: float) -> float | None:
    return value if np.isfinite(value) else None


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
