"""Targeted tests of each mapping table entry, each R-semantics flag and each error."""

from __future__ import annotations

import dataclasses
import warnings

import pytest

from interlace.errors import TranslationWarning
from interlace.formula.deparse import deparse
from interlace.formula.parser import parse
from interlace.translate import TranslationError, mapping, translate
from interlace.translate.models import treatment_matrix
from interlace.translate.rformula import update_formula


def code_lines(code: str, *, strict: bool = True) -> list[str]:
    """The translation without imports, comments and blank lines."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TranslationWarning)
        python = translate(code, strict=strict)
    compile(python, "<test>", "exec")
    return [
        ln
        for ln in python.splitlines()
        if ln and not ln.startswith(("#", "import ")) and "datasets.load" not in ln
    ]


def last(code: str) -> str:
    return " ".join(code_lines(code)[-1:]).replace("\n", " ")


def joined(code: str) -> str:
    """All code lines of the translation as one string (long calls are split over lines)."""
    return " ".join(line.strip() for line in code_lines(code))


def error(code: str) -> TranslationError:
    with pytest.raises(TranslationError) as info:
        translate(code, filename="a.R")
    return info.value


# ----------------------------------------------------------------------------- families


@pytest.mark.parametrize(
    ("family", "python"),
    [
        ("binomial", "interlace.families.binomial()"),
        ("binomial()", "interlace.families.binomial()"),
        ('"binomial"', "interlace.families.binomial()"),
        ('binomial(link = "logit")', "interlace.families.binomial()"),
        ('binomial(link = "probit")', 'interlace.families.binomial(link="probit")'),
        ("binomial(link = probit)", 'interlace.families.binomial(link="probit")'),
        ('binomial("cloglog")', 'interlace.families.binomial(link="cloglog")'),
        ("stats::poisson", "interlace.families.poisson()"),
        ('Gamma(link = "log")', 'interlace.families.Gamma(link="log")'),
        ("inverse.gaussian", "interlace.families.inverse_gaussian()"),
    ],
)
def test_glmer_families(family: str, python: str) -> None:
    out = joined(f"m <- glmer(y ~ x + (1 | g), data = d, family = {family})")
    assert f"family={python}" in out
    assert "interlace.glmer(" in out


@pytest.mark.parametrize(
    ("family", "python"),
    [
        ("nbinom2", "interlace.families.nbinom2()"),
        ("beta_family()", "interlace.families.beta_family()"),
        ('truncated_poisson(link = "log")', "interlace.families.truncated_poisson()"),
    ],
)
def test_glmmtmb_families(family: str, python: str) -> None:
    assert f"family={python}" in joined(f"m <- glmmTMB(y ~ x + (1 | g), d, family = {family})")


@pytest.mark.parametrize(
    ("family", "words", "column"),
    [
        ("quasibinomial", "cannot fit the quasibinomial family", 41),
        ("nbinom2", "not translated for glmer()", 41),
        ('binomial(link = "identity")', "no link 'identity'", 41),
    ],
)
def test_family_errors(family: str, words: str, column: int) -> None:
    err = error(f"m <- glmer(y ~ x + (1 | g), d, family = {family})")
    assert words in str(err)
    assert err.location.column == column


def test_glmer_gaussian_is_lmer() -> None:
    out = translate("m <- glmer(y ~ x + (1 | g), data = d, family = gaussian)")
    assert 'm = interlace.lmer("y ~ x + (1 | g)", d)' in out
    assert "# interlace: note: glmer() with the gaussian family and identity link is lmer()" in out


# ----------------------------------------------------------------------------- arguments


def test_r_argument_matching_partial_and_positional() -> None:
    assert last("m <- lmer(y ~ x + (1 | g), d, FALSE)") == (
        'm = interlace.lmer("y ~ x + (1 | g)", d, REML=False)'
    )
    assert last("m <- lmer(y ~ x + (1 | g), RE = FALSE, dat = d)") == (
        'm = interlace.lmer("y ~ x + (1 | g)", d, REML=False)'
    )
    assert 'ziformula="~1"' in joined("m <- glmmTMB(y ~ x + (1 | g), d, zi = ~1)")


def test_weights_offset_and_na_action() -> None:
    out = joined("m <- lmer(y ~ x + (1 | g), d, weights = w, offset = log(n), na.action = na.omit)")
    assert 'weights="w"' in out
    assert 'offset=np.log(d["n"])' in out
    assert 'na_action="omit"' in out
    assert 'weights=1 / d["v"]' in joined("m <- lmer(y ~ x + (1 | g), d, weights = 1/v)")
    assert "weights=w" in joined("w <- d$n / 2\nm <- lmer(y ~ x + (1 | g), d, weights = w)")
    assert "na.exclude" in str(error("m <- lmer(y ~ 1 + (1 | g), d, na.action = na.exclude)"))


def test_control_settings() -> None:
    out = joined(
        'm <- lmer(y ~ x + (1 | g), d, control = lmerControl(optimizer = "bobyqa", '
        "calc.derivs = FALSE, optCtrl = list(maxfun = 1e5)))"
    )
    assert (
        'control={"optimizer": "bobyqa", "calc_derivs": False, "optCtrl": {"maxfun": 100000}}'
        in out
    )
    err = error('m <- lmer(y ~ 1 + (1 | g), d, control = lmerControl(check.nlev.gtr.1 = "ignore"))')
    assert "check.nlev.gtr.1 = has no interlace setting" in str(err)
    assert err.location.column == 53


def test_glmer_control_settings() -> None:
    out = joined(
        "m <- glmer(y ~ x + (1 | g), d, binomial, control = glmerControl(optimizer = "
        'c("bobyqa", "bobyqa"), boundary.tol = 1e-4, calc.derivs = FALSE))'
    )
    assert 'control={"boundary_tol": 1e-4, "calc_derivs": False}' in out
    note = translate(
        'glmer(y ~ x + (1 | g), d, binomial, control = glmerControl(optimizer = "bobyqa"))'
    )
    assert '# interlace: note: glmerControl(optimizer = "bobyqa") is interlace' in note
    for setting in ('optimizer = "Nelder_Mead"', 'optimizer = c("bobyqa", "Nelder_Mead")'):
        err = error(f"m <- glmer(y ~ 1 + (1 | g), d, binomial, control = glmerControl({setting}))")
        assert 'only optimizer = "bobyqa" is translated' in str(err)
    err = error(
        "m <- glmer(y ~ 1 + (1 | g), d, binomial, control = glmerControl(optCtrl = list()))"
    )
    assert "optCtrl = has no interlace setting" in str(err)


def test_unsupported_fitter_argument_points_at_it() -> None:
    err = error("fm <- lmer(y ~ x + (1 | g), d,\n   devFunOnly = TRUE)")
    assert "devFunOnly = has no interlace equivalent" in str(err)
    assert (err.location.line, err.location.column) == (2, 4)


def test_dropped_arguments_are_noted() -> None:
    out = translate("m <- glmmTMB(y ~ x + (1 | g), d, family = poisson, se = FALSE)")
    assert "se = is dropped" in out
    assert "se=" not in out


def test_subset_argument_filters_the_data() -> None:
    assert last("m <- lmer(y ~ x + (1 | g), d, subset = x > 0 & !is.na(z))") == (
        'm = interlace.lmer("y ~ x + (1 | g)", d[(d["x"] > 0) & np.logical_not(pd.isna(d["z"]))])'
    )


# ----------------------------------------------------------------------------- contrasts


def test_treatment_matrix_is_rs_definition() -> None:
    # contr.treatment(3, base = 2): identity columns of the non-base levels, named by number
    assert treatment_matrix(3, 2) == ([[1, 0], [0, 0], [0, 1]], ["1", "3"])
    assert treatment_matrix(3, 1) == ([[0, 0], [1, 0], [0, 1]], ["2", "3"])


@pytest.mark.parametrize(
    ("value", "python"),
    [
        ("contr.sum(3)", '"contr.sum"'),
        ("contr.sum", '"contr.sum"'),
        ('"contr.helmert"', '"contr.helmert"'),
        ("contr.poly(4)", '"contr.poly"'),
        ("contr.treatment(3)", 'pd.DataFrame([[0, 0], [1, 0], [0, 1]], columns=["2", "3"])'),
        (
            "contr.treatment(3, base = 2)",
            'pd.DataFrame([[1, 0], [0, 0], [0, 1]], columns=["1", "3"])',
        ),
        ("contr.SAS(3)", 'pd.DataFrame([[1, 0], [0, 1], [0, 0]], columns=["1", "2"])'),
    ],
)
def test_column_contrasts_reach_the_model_call(value: str, python: str) -> None:
    out = joined(f"contrasts(d$f) <- {value}\nm <- lmer(y ~ f + (1 | g), data = d)")
    assert f'contrasts={{"f": {python}}}' in out


def test_contrasts_argument_wins_over_the_column_attribute() -> None:
    out = joined(
        "contrasts(d$f) <- contr.sum(3)\ncontrasts(d$h) <- contr.sum(2)\n"
        'm <- lmer(y ~ f + h + (1 | g), d, contrasts = list(f = "contr.helmert"))'
    )
    assert 'contrasts={"f": "contr.helmert", "h": "contr.sum"}' in out


def test_replacing_a_column_drops_its_contrasts() -> None:
    out = joined(
        "contrasts(d$f) <- contr.sum(3)\nd$f <- factor(d$f)\nm <- lmer(y ~ f + (1 | g), d)"
    )
    assert "contrasts=" not in out


def test_options_contrasts() -> None:
    out = joined(
        'options(contrasts = c(unordered = "contr.sum", ordered = "contr.poly"))\n'
        "m <- lmer(y ~ f + (1 | g), d)"
    )
    assert 'contrasts=("contr.sum", "contr.poly")' in out


# ----------------------------------------------------------------------------- R semantics


@pytest.mark.parametrize(
    ("formula", "flagged"),
    [
        ("y ~ x^2 + (1 | g)", True),
        ("y ~ (x)^2 + (1 | g)", True),
        ("y ~ (a + b)^2 + (1 | g)", False),
        ("y ~ I(x^2) + (1 | g)", False),
        ("y ~ poly(x, 2) + (1 | g)", False),
        ("y ~ x + (x^2 | g)", True),
    ],
)
def test_power_without_i_is_flagged(formula: str, flagged: bool) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = translate(f"m <- lmer({formula}, d)", filename="a.R")
    messages = [str(w.message) for w in caught if issubclass(w.category, TranslationWarning)]
    assert bool(messages) == flagged
    assert ("R reads" in out) == flagged
    if flagged:  # the location is the start of the power term
        start = formula.index("x^2") if "x^2" in formula else formula.index("(x)^2")
        assert messages[0].startswith(f"a.R:1:{11 + start}: ")


def test_double_bar_notes_differ_by_package() -> None:
    lme4 = translate("m <- lmer(y ~ x + (x || g), d)")
    tmb = translate("m <- glmmTMB(y ~ x + (x || g), d)")
    assert "lme4 splits (x || g)" in lme4 and "interlace.lmer(" in lme4
    assert "glmmTMB reads (x || g) as diag(x | g)" in tmb and "interlace.glmmTMB(" in tmb


def test_reml_defaults() -> None:
    assert "maximum likelihood unless REML = TRUE" in translate("m <- glmmTMB(y ~ x + (1 | g), d)")
    assert "maximum likelihood unless" not in translate(
        "m <- glmmTMB(y ~ x + (1 | g), d, REML = TRUE)"
    )
    assert "maximum likelihood unless" not in translate(
        "m <- glmmTMB(y ~ x + (1 | g), d, family = poisson)"
    )
    reml = translate("a <- lmer(y ~ x + (1 | g), d)\nb <- lmer(y ~ 1 + (1 | g), d)\nanova(a, b)")
    assert "refits REML fits by maximum likelihood" in reml
    ml = translate(
        "a <- lmer(y ~ x + (1 | g), d, REML = FALSE)\nb <- update(a, . ~ . - x)\nanova(a, b)"
    )
    assert "refits" not in ml


def test_coxme_random_slope_and_surv_notes() -> None:
    out = translate("f <- coxme(Surv(time, status) ~ age + (age | g), d)")
    assert "coxme reads (age | g) without a random intercept" in out
    assert "largest value is 2 (as in survival::lung)" in out
    assert 'd.assign(status=lambda d: d["status"] - 1 if d["status"].max() == 2' in out
    assert "without a random intercept" not in translate(
        "f <- coxme(Surv(time, status) ~ age + (1 + age | g), d)"
    )


def test_clmm_nominal_is_an_error_at_the_argument() -> None:
    err = error("fm <- clmm(rating ~ temp + (1 | judge), data = wine, nominal = ~ contact)")
    assert "R ignores it" in str(err) and "ordinal::clm" in str(err)
    assert err.location.column == 54


def test_clmm_nominal_lenient_is_commented_out() -> None:
    with pytest.warns(TranslationWarning, match="nominal"):
        out = translate(
            "fm <- clmm(rating ~ temp + (1 | judge), data = wine, nominal = ~ contact)",
            strict=False,
        )
    assert "# interlace: untranslated:" in out
    assert "interlace.clmm(" not in out


def test_binomial_proportion_without_weights_warns() -> None:
    with pytest.warns(TranslationWarning, match="proportion"):
        translate("m <- glmer(I(s/n) ~ x + (1 | g), family = binomial, data = d)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", TranslationWarning)
        translate("m <- glmer(s/n ~ x + (1 | g), family = binomial, weights = n, data = d)")


def test_factor_level_order_note() -> None:
    out = translate("d$f <- factor(d$f)")
    assert "pandas by code point" in out
    assert 'd["f"] = pd.Categorical(d["f"])' in out
    assert "code point" not in translate('d$f <- factor(d$f, levels = c("b", "a"))')


# ----------------------------------------------------------------------------- accessors


@pytest.mark.parametrize(
    ("call", "python"),
    [
        ("fixef(m)", "m.fe_params"),
        ("ranef(m)", "m.ranef()"),
        ("coef(m)", "m.coef()"),
        ("VarCorr(m)", "m.varcorr()"),
        ("sigma(m)", "m.sigma"),
        ("logLik(m)", "m.llf"),
        ("AIC(m)", "m.aic"),
        ("BIC(m)", "m.bic"),
        ("vcov(m)", "m.cov_params()"),
        ("fitted(m)", "m.fittedvalues"),
        ("resid(m)", "m.resid"),
        ("residuals(m)", "m.resid"),
        ("isSingular(m)", "m.is_singular"),
        ("isSingular(m, tol = 1e-4)", "m.is_singular"),
        ("simulate(m, 10)", "m.simulate(10)"),
        ("confint(m)", 'm.confint(method="profile")'),
        ('confint(m, method = "boot", nsim = 50)', 'm.confint(method="boot", nsim=50)'),
        ("predict(m, re.form = NULL)", "m.predict(re_form=None)"),
        ("summary(m)", "m.summary()"),
        ("coef(summary(m))", 'm.coef_table(ddf="none")'),
        ("summary(m)$coefficients", 'm.coef_table(ddf="none")'),
        ("anova(m)", 'm.anova(type=1, ddf="none")'),
        ("print(m)", "m"),
        ("update(m, REML = FALSE)", 'interlace.lmer("y ~ x + (1 | g)", d, REML=False)'),
        ("VarCorr(m)$g", 'm.variance_components["g"]'),
        ("summary(m)$sigma", "m.sigma"),
        ("ranef(m)$g", 'm.ranef()["g"]'),
        ('coef(m)[["g"]]', 'm.coef()["g"]'),
    ],
)
def test_lmer_accessors(call: str, python: str) -> None:
    assert last(f"m <- lmer(y ~ x + (1 | g), d)\n{call}") == f"print({python})"


@pytest.mark.parametrize(
    ("call", "words"),
    [
        ("residuals(g)", "deviance residuals"),
        ('residuals(m, type = "pearson")', 'only residuals(type = "response")'),
        ("isSingular(m, tol = 1e-3)", "other than 1e-4"),
        ("simulate(m, 5, re.form = NA)", "simulate(): re.form = is not translated"),
        ("fixef(c)", "R has no fixef() for clmm fits"),
        ("simulate(x)", "R has no simulate() for coxme fits"),
        ("m$theta", "component theta of a lmer fit"),
        ('getME(m, "Zt")', "getME()"),
    ],
)
def test_accessor_errors(call: str, words: str) -> None:
    setup = (
        "m <- lmer(y ~ x + (1 | g), d)\ng <- glmer(y ~ x + (1 | g), d, family = binomial)\n"
        "c <- clmm(r ~ x + (1 | g), d)\nx <- coxme(Surv(t, s) ~ x + (1 | g), d)\n"
    )
    assert words in str(error(setup + call))


def test_model_specific_accessors() -> None:
    setup = "z <- glmmTMB(y ~ x + (1 | g), d, family = poisson)\n"
    assert last(setup + "fixef(z)") == (
        'print({"cond": z.fe_params, "zi": z.zi_params, "disp": z.disp_params})'
    )
    assert last(setup + "fixef(z)$zi") == "print(z.zi_params)"
    assert last(setup + "confint(z)") == 'print(z.confint(method="Wald"))'
    cox = "x <- coxme(Surv(t, s) ~ a + (1 | g), d)\n"
    assert last(cox + "logLik(x)") == "print(x.llf_fitted)"
    assert last(cox + 'logLik(x, type = "penalized")') == "print(x.llf_fitted)"
    assert last(cox + 'logLik(x, type = "integrated")') == "print(x.llf)"
    assert last(cox + "AIC(x)") == "print(x.aic)"
    assert last(cox + "BIC(x)") == "print(x.bic)"
    assert last(cox + "predict(x)") == "print(x.predict())"
    assert last(cox + "y <- update(x, . ~ . - a)\nanova(y, x)") == "print(y.anova(x))"
    clmm = "m <- clmm(r ~ a + (1 | g), d)\n"
    assert last(clmm + "confint(m, level = 0.9)") == "print(m.confint(level=0.9))"
    assert "takes only level" in str(error(clmm + 'confint(m, method = "profile")'))
    assert (
        last(clmm + "m0 <- update(m, . ~ . - a)\nanova(m0, m)")
        == 'print(m0.anova(m, names=["m0", "m"]))'
    )
    lme = "l <- lme(y ~ x, d, random = ~ 1 | g)\n"
    assert last(lme + "l$sigma") == "print(l.sigma)"


@pytest.mark.parametrize(
    ("call", "python"),
    [
        ("coef(x)", "x.fe_params"),
        ("fixef(x)", "x.fe_params"),
        ("ranef(x)", "x.ranef()"),
        ("VarCorr(x)", "x.varcorr()"),
        ("fitted(x)", "x.fittedvalues"),
        ("residuals(x)", "x.residuals()"),
        ('residuals(x, type = "deviance")', 'x.residuals(type="deviance")'),
        ('resid(x, type = "score")', 'x.residuals(type="score")'),
        ('predict(x, type = "risk")', 'x.predict(type="risk")'),
        ("predict(x, d)", "x.predict(d)"),
        ("anova(x, y, x)", "x.anova(y, x)"),
    ],
)
def test_coxme_accessors(call: str, python: str) -> None:
    setup = "x <- coxme(Surv(t, s) ~ a + (1 | g), d)\ny <- coxme(Surv(t, s) ~ (1 | g), d)\n"
    assert last(setup + call) == f"print({python})"


@pytest.mark.parametrize(
    ("call", "note"),
    [
        ("fitted(x)", "coxme has no fitted() method (R returns NULL)"),
        ("residuals(x)", "coxme has no residuals() method (R returns NULL)"),
        ("predict(x, newdata = d)", "coxme 2.2-22's predict() stops on newdata"),
    ],
)
def test_coxme_accessors_beyond_coxme_are_noted(call: str, note: str) -> None:
    python = translate("x <- coxme(Surv(t, s) ~ a + (1 | g), d)\n" + call)
    assert note in " ".join(python.replace("#    ", "").split())


@pytest.mark.parametrize(
    ("call", "words"),
    [
        ('residuals(x, type = "schoenfeld")', 'type = "martingale", "deviance", "score"'),
        ('predict(x, type = "expected")', 'type = "lp" or "risk"'),
        ("coef(x, 1)", "coef(): an extra argument is not translated"),
        ("anova(x, y, refit = FALSE)", "anova() of coxme fits takes only the fits"),
    ],
)
def test_coxme_accessor_errors(call: str, words: str) -> None:
    setup = "x <- coxme(Surv(t, s) ~ a + (1 | g), d)\ny <- coxme(Surv(t, s) ~ (1 | g), d)\n"
    assert words in str(error(setup + call))


@pytest.mark.parametrize(
    ("call", "python"),
    [
        (
            "lme(y ~ x, d, random = ~ x | g)",
            'interlace.lme("y ~ x", d, random="~x | g")',
        ),
        (
            "lme(y ~ x, d, random = ~ 1 | a/b, method = 'ML')",
            'interlace.lme("y ~ x", d, random="~1 | a/b", method="ML")',
        ),
        (
            "lme(y ~ x, d, random = pdDiag(~ x))",
            'interlace.lme("y ~ x", d, random=interlace.pdDiag("~x"))',
        ),
        (
            "lme(y ~ x, d, random = list(a = ~ 1, b = pdSymm(~ x)))",
            'interlace.lme("y ~ x", d, random={"a": "~1", "b": interlace.pdSymm("~x")})',
        ),
        (
            "lme(y ~ x, d, random = ~ 1 | g, correlation = corAR1(0.2, ~ t | g))",
            'interlace.lme("y ~ x", d, random="~1 | g", '
            'correlation=interlace.corAR1(value=0.2, form="~t | g"))',
        ),
        (
            "lme(y ~ x, d, random = ~ 1 | g, correlation = corCompSymm(form = ~ 1 | g, "
            "fixed = FALSE))",
            'interlace.lme("y ~ x", d, random="~1 | g", '
            'correlation=interlace.corCompSymm(form="~1 | g"))',
        ),
    ],
)
def test_lme_calls(call: str, python: str) -> None:
    one_line = joined(f"m <- {call}").replace("( ", "(").replace(", )", ")")
    assert one_line == f"m = {python}"


@pytest.mark.parametrize(
    ("call", "python"),
    [
        ("fixef(l)", "l.fe_params"),
        ("ranef(l)", "l.ranef()"),
        ("VarCorr(l)", "l.varcorr()"),
        ("summary(l)", "l.summary()"),
        ("summary(l)$tTable", "l.coef_table()"),
        ("logLik(l)", "l.llf"),
        ("AIC(l)", "l.aic"),
        ("BIC(l)", "l.bic"),
        ("sigma(l)", "l.sigma"),
        ("fitted(l)", "l.fittedvalues"),
        ("residuals(l)", "l.resid"),
        ("predict(l, d)", "l.predict(d)"),
        ("coef(l$modelStruct$corStruct, unconstrained = FALSE)", "l.correlation_params"),
        ("intervals(l)", "l.intervals()"),
        ('intervals(l, level = 0.9, which = "fixed")', 'l.intervals(level=0.9, which="fixed")'),
        ("anova(l)", "l.anova()"),
        ('anova(l, type = "m")', 'l.anova(type="marginal")'),
        ("anova(l, l)", 'l.anova(l, names=["l", "l"])'),
    ],
)
def test_lme_accessors(call: str, python: str) -> None:
    setup = "l <- lme(y ~ x, d, random = ~ 1 | g, correlation = corAR1())\n"
    assert last(setup + call) == f"print({python})"


@pytest.mark.parametrize(
    ("call", "words"),
    [
        ("coef(l$modelStruct$corStruct)", "unconstrained = FALSE"),
        ("fitted(l, level = 0)", "fitted(): level is not translated"),
        ("anova(l, type = 'terms')", 'type must be "sequential" or "marginal"'),
        ("anova(l, adjustSigma = FALSE)", "anova(): adjustSigma = is not translated"),
        (
            "m <- lme(y ~ x, d, random = ~ 1 | g, correlation = corAR1(fixed = TRUE))",
            "fixed = TRUE",
        ),
        ("m <- lme(y ~ x, d, random = pdCompSymm(~ x))", "pdSymm and pdDiag only"),
        ("m <- lme(y ~ x, d, random = list(~ 1))", "one named entry per grouping factor"),
        ("m <- lme(y ~ x, d, random = ~ 1 | g, correlation = corARMA(p = 2))", "corAR1"),
    ],
)
def test_lme_errors(call: str, words: str) -> None:
    setup = "l <- lme(y ~ x, d, random = ~ 1 | g, correlation = corAR1())\n"
    assert words in str(error(setup + call))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("y ~ a + b + (1 | g)", ". ~ . - b", "y ~ a + (1 | g)"),
        ("y ~ a + (1 | g)", ". ~ . + c", "y ~ a + (1 | g) + c"),
        ("y ~ a + (1 | g)", ". ~ . + a", "y ~ a + (1 | g)"),
        ("y ~ a * b + (1 | g)", ". ~ . - a", "y ~ a * b + (1 | g) - a"),
        ("y ~ a + (1 | g)", ". ~ . - (1 | g) + (a | g)", "y ~ a + (a | g)"),
        ("y ~ a + (1 | g)", "log(.) ~ .", "log(y) ~ a + (1 | g)"),
        ("y ~ a + (1 | g)", "~ . - 1", "y ~ a + (1 | g) - 1"),
        ("y ~ a + (1 | g)", ". ~ b + (1 | g)", "y ~ b + (1 | g)"),
        ("y ~ a + (1 | g)", ". ~ .:x", "y ~ (a + (1 | g)):x"),
    ],
)
def test_update_formula(old: str, new: str, expected: str) -> None:
    assert deparse(update_formula(parse(old), parse(new))) == expected


# ----------------------------------------------------------------------------- data and names


def test_python_names_for_r_names() -> None:
    out = code_lines("fm.null <- lmer(y ~ 1 + (1 | g), my.data)\nclass <- 1\nfm.null")
    assert out[0].startswith('fm_null = interlace.lmer("y ~ 1 + (1 | g)", my_data)')
    assert out[1] == "class_ = 1"
    assert out[2] == "print(fm_null)"


def test_copy_on_assignment_of_a_frame() -> None:
    assert "d2 = sleepstudy.copy()" in translate("d2 <- sleepstudy")


def test_pipes() -> None:
    assert last("m <- d |> lmer(formula = y ~ x + (1 | g))") == (
        'm = interlace.lmer("y ~ x + (1 | g)", d)'
    )
    assert last("m <- d %>% lmer(y ~ x + (1 | g), data = .)") == (
        'm = interlace.lmer("y ~ x + (1 | g)", d)'
    )
    assert last("n <- d %>% subset(x > 1) %>% nrow()") == 'n = len(d[d["x"] > 1])'


def test_chained_assignment() -> None:
    assert code_lines("a <- b <- 1") == ["b = 1", "a = b"]
    assert code_lines("d1 <- d2 <- sleepstudy")[-2:] == ["d2 = sleepstudy.copy()", "d1 = d2.copy()"]


@pytest.mark.parametrize(
    ("code", "python"),
    [
        ('d <- read.csv("x.csv")', 'd = pd.read_csv("x.csv")'),
        (
            'd <- read.csv("x.csv", sep = ";", na.strings = "-")',
            'd = pd.read_csv("x.csv", sep=";", na_values="-")',
        ),
        ('d <- read.table("x.txt", header = TRUE)', 'd = pd.read_csv("x.txt", sep=r"\\s+")'),
        ('d <- read.delim("x.tsv")', 'd = pd.read_csv("x.tsv", sep="\\t")'),
        (
            'd <- read.table("x.txt")',
            'd = pd.read_csv("x.txt", sep=r"\\s+", header=None)'
            '.rename(columns=lambda i: f"V{i + 1}")',
        ),
        ("d$z <- scale(d$x)", 'd["z"] = (d["x"] - d["x"].mean()) / d["x"].std()'),
        ("d$o <- ordered(d$o)", 'd["o"] = pd.Categorical(d["o"], ordered=True)'),
        (
            'd$f <- factor(d$f, levels = c("a", "b"), labels = c("A", "B"))',
            'd["f"] = pd.Categorical(d["f"], categories=["a", "b"]).rename_categories(["A", "B"])',
        ),
        ("n <- nlevels(d$f)", 'n = len(d["f"].cat.categories)'),
        ("d2 <- subset(d, x > 1, select = c(x, y))", 'd2 = d.loc[d["x"] > 1, ["x", "y"]]'),
        ("d2 <- transform(d, `log x` = log(x))", 'd2 = d.assign(**{"log x": np.log(d["x"])})'),
        ("d2 <- na.omit(d)", "d2 = d.dropna()"),
        ('d[["y2"]] <- d$y^2', 'd["y2"] = d["y"] ** 2'),
        ("k <- 10 %/% 3 + 10 %% 3", "k = 10 // 3 + 10 % 3"),
        ("v <- c(-1, 1e-3, 2L, 1e5, 0x10)", "v = [-1, 1e-3, 2, 100000, 0x10]"),
        ("b <- -2^2", "b = -2 ** 2"),
        ("s <- sd(d$x, na.rm = TRUE)", 's = np.nanstd(d["x"], ddof=1)'),
        ('names(d) <- c("a", "b")', 'd.columns = ["a", "b"]'),
        ('d$g <- d$g %in% c("x", "y")', 'd["g"] = np.isin(d["g"], ["x", "y"])'),
    ],
)
def test_data_preparation(code: str, python: str) -> None:
    assert last(code) == python


def test_top_level_values_are_printed_and_library_dropped() -> None:
    out = translate(
        "library(lme4)\nrequire(glmmTMB)\nsuppressPackageStartupMessages(library(nlme))\nx <- 1\nx"
    )
    assert "# library(lme4): not needed in Python" in out
    assert "# require(glmmTMB): not needed in Python" in out
    assert "# library(nlme): not needed in Python" in out
    assert out.rstrip().endswith("print(x)")


def test_r_comments_are_kept() -> None:
    out = translate("# load\nx <- 1  # one\n## two\ny <- 2")
    assert out.splitlines() == ["# load", "x = 1", "# one", "# two", "y = 2"]


@pytest.mark.parametrize(
    ("code", "words", "line", "column"),
    [
        ("x <- 1\nfor (i in 1:3) print(i)", "for loops are not translated", 2, 1),
        ("f <- function(x) x + 1", "function definitions", 1, 6),
        ("x <- foo(1)", "foo() has no translation", 1, 6),
        ("x <- d[1, 2]", "indexing by position", 1, 6),
        ("x <- d[-1]", "indexing by position", 1, 6),
        ("x <- d[c(1, 3), ]", "indexing by position", 1, 6),
        ("x <- d[2:4, ]", "indexing by position", 1, 6),
        ('data("nosuchdata")', "not bundled", 1, 6),
        ("(m <- lmer(y ~ 1 + (1 | g), d))", "assignment inside an expression", 1, 2),
        ("m <- lmer(y ~ x[1] + (1 | g), d)", "interlace cannot use this formula", 1, 11),
        ("m <- lmer(y ~ x + (1 | g))", "without data=", 1, 6),
        ("m <- lmer(y ~ x + (0 | g), d)", "needs something to vary", 1, 20),
        ("m <- lmer(y ~ x +\n   foo(z) + (1 | g), d)", "unknown function foo()", 2, 4),
        ("m <- glmmTMB(y ~ x + 2 + (1|g), d)", "the number 2 is not a model term", 1, 22),
    ],
)
def test_errors_point_at_the_construct(code: str, words: str, line: int, column: int) -> None:
    err = error(code)
    assert words in str(err)
    assert (err.location.line, err.location.column) == (line, column)
    assert str(err).startswith(f"a.R:{line}:{column}: ")


def test_lenient_mode_keeps_going() -> None:
    code = "x <- 1\nfor (i in 1:3) {\n  print(i)\n}\ny <- 2"
    with pytest.warns(TranslationWarning, match=r"<string>:2:1: for loops are not translated"):
        out = translate(code, strict=False)
    lines = out.splitlines()
    assert lines[0] == "x = 1"
    assert lines[1].startswith("# interlace: untranslated: for loops are not translated")
    start = lines.index("#     for (i in 1:3) {")
    assert lines[start + 1 : start + 3] == ["#       print(i)", "#     }"]
    assert lines[start + 3 :] == ["y = 2"]
    compile(out, "<test>", "exec")


def _members(cls: type) -> set[str]:
    fields = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    return set(dir(cls)) | fields


@pytest.mark.parametrize(
    ("model", "result"),
    [
        ("lmer", "LmerResult"),
        ("glmer", "GlmerResult"),
        ("clmm", "ClmmResult"),
        ("coxme", "CoxmeResult"),
        ("lme", "LmeResult"),
    ],
)
def test_translated_accessors_exist_on_the_results(model: str, result: str) -> None:
    """What an accessor is translated to is an attribute of that fitter's result."""
    import interlace

    members = _members(getattr(interlace, result))
    for name, acc in mapping.ACCESSORS.items():
        if model in acc.models and model not in acc.unavailable:
            assert acc.overrides.get(model, (acc.python,))[0] in members, (name, model)
    assert mapping.MODEL_DF[model] in members


#: The R semantics issue 5 asks to flag: R code, the flag's text, and whether it is a warning
#: (a TranslationWarning too) rather than a note.
FLAGS = [
    (
        "m <- glmmTMB(y ~ x + (1 | g), d)",
        "glmmTMB fits by maximum likelihood unless REML = TRUE (lmer's default is REML)",
        False,
    ),
    (
        "m <- glmer(y ~ x + (1 | g), data = d, family = gaussian)",
        "glmer() with the gaussian family and identity link is lmer() in lme4, a REML fit",
        False,
    ),
    (
        "a <- lmer(y ~ x + (1 | g), d)\nb <- lmer(y ~ 1 + (1 | g), d)\nanova(a, b)",
        "anova() refits REML fits by maximum likelihood before the likelihood-ratio test",
        False,
    ),
    ("m <- lmer(y ~ x + (x || g), d)", "lme4 splits (x || g) term by term", False),
    ("m <- glmmTMB(y ~ x + (x || g), d)", "glmmTMB reads (x || g) as diag(x | g)", False),
    (
        "f <- coxme(Surv(time, status) ~ age + (age | g), d)",
        "coxme reads (age | g) without a random intercept (lme4 would add one)",
        False,
    ),
    (
        "m <- glmer(s/n ~ x + (1 | g), family = binomial, data = d)",
        "the binomial response is a proportion and there are no weights",
        True,
    ),
    ("m <- lmer(y ~ x + x^2 + (1 | g), d)", "R reads x^2 as the interaction power", True),
    ("d$f <- factor(d$f)", "R sorts character levels by the locale's collation", False),
    (
        "f <- coxme(Surv(time, status) ~ age + (1 | g), d)",
        "a status whose largest value is 2 (as in survival::lung) as 1 = censored, 2 = event",
        False,
    ),
]


@pytest.mark.parametrize(("code", "text", "warns"), FLAGS)
def test_issue_flags_are_in_the_output(code: str, text: str, warns: bool) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = translate(code)
    comments = " ".join(
        line.lstrip("# ").removeprefix("interlace: note: ").removeprefix("interlace: warning: ")
        for line in out.splitlines()
        if line.startswith("#")
    )
    assert text in comments, out
    got = [str(w.message) for w in caught if issubclass(w.category, TranslationWarning)]
    assert any(text in message for message in got) == warns


def test_clmm_nominal_flag_is_an_error() -> None:
    # R ignores clmm(nominal =) with a warning, so the argument cannot be translated silently
    assert "R ignores it" in str(error("m <- clmm(r ~ x + (1 | g), d, nominal = ~ z)"))
