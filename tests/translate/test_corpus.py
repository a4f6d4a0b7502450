"""The corpus of R scripts: each translates (strictly), compiles, and contains the expected calls.

Every script in ``corpus/`` must appear in ``EXPECTED``; each entry lists code fragments the
translation must contain and how many ``TranslationWarning`` it must raise.
"""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest

from interlace.errors import TranslationWarning
from interlace.translate import TranslationError, translate

CORPUS = Path(__file__).parent / "corpus"

# script -> (fragments the Python must contain, number of TranslationWarnings)
EXPECTED: dict[str, tuple[list[str], int]] = {
    "01_sleepstudy_lmer.R": (
        [
            'sleepstudy = interlace.datasets.load("sleepstudy")',
            'fm1 = interlace.lmer("Reaction ~ Days + (Days | Subject)", sleepstudy)',
            "print(fm1.summary())",
            "print(fm1.fe_params)",
            "print(fm1.ranef())",
            "print(fm1.coef())",
            "print(fm1.varcorr())",
            "print(fm1.sigma)",
            "print(fm1.llf)",
            "print(fm1.aic)",
            "print(fm1.bic)",
            "print(fm1.cov_params())",
            "print(fm1.is_singular)",
            "print(fm1.nobs)",
            "print(fm1.fittedvalues.head(6))",
            "print(fm1.resid.head(6))",
        ],
        0,
    ),
    "02_sleepstudy_ml_update.R": (
        [
            'fm_full = interlace.lmer("Reaction ~ Days + (Days | Subject)", sleepstudy, '
            "REML=False)",
            '"Reaction ~ Days + (Days || Subject)"',
            'fm_null = interlace.lmer("Reaction ~ (Days | Subject)", sleepstudy, REML=False)',
            "print(fm_null.anova(fm_full))",
            'fm_reml = interlace.lmer("Reaction ~ Days + (Days | Subject)", sleepstudy, REML=True)',
            "print(fm_full.deviance)",
            'fm_reml.confint(method="Wald")',
            'fm_reml.confint(level=0.9, method="profile")',
            "lme4 splits (Days || Subject)",
        ],
        0,
    ),
    "03_dyestuff.R": (
        [
            'Dyestuff = interlace.datasets.load("Dyestuff")',
            "fm.ranef(condVar=True)",
            "fm.predict()",
            "sims = fm.simulate(5, seed=101)",
            "print(fm.simulate(200, seed=7))",
            "fm.REMLcrit",
            "fm.theta",
            "print(fm)",
        ],
        0,
    ),
    "04_penicillin_crossed.R": (
        [
            '"diameter ~ 1 + (1 | plate) + (1 | sample)"',
            'fm_pen.ranef()["plate"]',
            "# options(digits = 4): only changes R's printing",
        ],
        0,
    ),
    "05_cbpp_glmer.R": (
        [
            "family=interlace.families.binomial()",
            'family=interlace.families.binomial(link="probit")',
            "nAGQ=10",
            "control={},",
            'glmerControl(optimizer = "bobyqa") is interlace\'s glmer optimiser',
            '"Pr(>|z|)": gm1.pvalues',
            'gm1.predict(type="response")',
            "gm1.anova(gm_agq)",
        ],
        0,
    ),
    "06_cbpp_proportions.R": (
        [
            'weights="size"',
            '"incidence/size ~ period + (1 | herd)"',
            "# interlace: warning: the binomial response is a proportion",
        ],
        1,
    ),
    "07_grouseticks_counts.R": (
        [
            "family=interlace.families.poisson()",
            'gnb = interlace.glmer_nb("TICKS ~ YEAR + cHEIGHT + (1 | BROOD)", grouseticks)',
            '{"df": [gp.df_model, gnb.df_model], "AIC": [gp.aic, gnb.aic]}',
        ],
        0,
    ),
    "08_salamanders_glmmTMB.R": (
        [
            'ziformula="~mined"',
            "family=interlace.families.nbinom2()",
            "print(zip.fe_params)",
            "print(znb.zi_params)",
            '"disp": znb.disp_params',
            'zip.anova(znb, names=["zip", "znb"])',
        ],
        0,
    ),
    "09_glmmTMB_gaussian.R": (
        [
            "family=interlace.families.gaussian()",
            "REML=True",
            'dispformula="~1"',
            "glmmTMB fits by maximum likelihood",
            "glmmTMB reads (Days || Subject) as diag",
        ],
        0,
    ),
    "10_wine_clmm.R": (
        [
            'fm_clmm = interlace.clmm("rating ~ temp + contact + (1 | judge)", wine)',
            "fm_clmm.thresholds",
            "fm_clmm.fe_params",
            "pd.concat([fm_clmm.thresholds, fm_clmm.fe_params])",
            'link="probit"',
            'threshold="equidistant"',
            "nAGQ=5",
            'fm_temp.anova(fm_clmm, names=["fm_temp", "fm_clmm"])',
        ],
        0,
    ),
    "11_coxme_kidney.R": (
        [
            '"Surv(time, status) ~ age + sex + (1 | id)",',
            "print(fit.llf_fitted)",
            "print(fit.llf)",
            'ties="breslow"',
            "largest value is 2 (as in survival::lung)",
            'lung.assign(status=lambda d: d["status"] - 1 if d["status"].max() == 2 else',
            "print(fit_breslow.anova(fit))",
        ],
        0,
    ),
    "12_lme_orthodont.R": (
        [
            'interlace.lme("distance ~ age + Sex", Orthodont, random="~1 | Subject")',
            'random="~age | Subject", method="ML"',
            'correlation=interlace.corAR1(form="~1 | Subject")',
            "print(fm_lme.sigma)",
        ],
        0,
    ),
    "13_csv_data_prep.R": (
        [
            'dat = pd.read_csv("experiment.csv")',
            'pd.Categorical(dat["condition"], categories=["control", "low", "high"])',
            'categories=["0", "5", "10"], ordered=True',
            'dat["site"].cat.reorder_categories(["B", *dat["site"].cat.categories.drop("B")])',
            'dat["age_c"] = dat["age"] - dat["age"].mean()',
            'dat["subject"] = pd.Categorical(dat["subject"])',
            'items = pd.read_csv("items.txt", sep="\\t")',
            'dat["sex"] = dat["sex"].cat.rename_categories(["female", "male"])',
            'dat = dat[(dat["rt"] > 200) & np.logical_not(pd.isna(dat["age"]))]',
            'dat2 = dat.assign(rt_s=dat["rt"] / 1000)',
            'contrasts={"condition": "contr.sum"}',
            'contrasts={"condition": "contr.helmert"}',
            "print(len(dat))",
        ],
        0,
    ),
    "14_lmerTest.R": (
        [
            'print(fm.coef_table(ddf="satterthwaite"))',
            'print(fm.anova(type=3, ddf="satterthwaite"))',
            'print(fm.anova(type=2, ddf="kenward-roger"))',
            'print(fm.coef_table(ddf="kenward-roger"))',
        ],
        0,
    ),
    "15_machines_sum_contrasts.R": (['contrasts=("contr.sum", "contr.poly")'], 0),
    "16_pipes_subset.R": (
        [
            'sleep2 = sleepstudy[sleepstudy["Days"] >= 2]',
            'sleep2["Days2"] = sleep2["Days"] - 2',
            'interlace.lmer("Reaction ~ Days + (1 | Subject)", sleepstudy[sleepstudy["Days"] > 0])',
            'mean_reaction = np.mean(sleep2["Reaction"])',
        ],
        0,
    ),
    "17_predict_newdata.R": (
        [
            'nd = pd.DataFrame({"Days": np.arange(0, 10), "Subject": "new"})',
            "fm.predict(nd, allow_new_levels=True)",
            'fm.predict(nd, re_form="~0")',
            'fm.predict(sleepstudy, re_form="~(1 | Subject)")',
        ],
        0,
    ),
    "18_orthodont_power.R": (
        [
            '"distance ~ age + age^2 + (1 | Subject)"',
            '"distance ~ age + I(age^2) + (1 | Subject)"',
            "# interlace: warning: in a formula R reads age^2",
        ],
        1,
    ),
    "19_lmer_roundtrip.R": (
        [
            "sleep = sleepstudy.copy()",
            'contrasts={"rec": "contr.sum"}',
            '"angle ~ rec + temp + (1 | replicate) + rec:temp"',
            'pd.Categorical(np.where(sleep["Days"] > 4, "late", "early"))',
            'sleep[sleep["Days"] != 0]',
            'contrasts={"Sex": "contr.sum"}',
        ],
        0,
    ),
    "20_chickweight_growth.R": (
        [
            "cw = ChickWeight.copy()",
            'cw["Diet"].cat.reorder_categories(["4", *cw["Diet"].cat.categories.drop("4")])',
            '"weight ~ poly(Time_wk, 2) + Diet + (1 | Chick)"',
        ],
        0,
    ),
    "21_pastes_nested.R": (
        [
            '"strength ~ 1 + (1 | batch/cask)"',
            'fm_batch = interlace.lmer("strength ~ 1 + (1 | batch)", Pastes)',
        ],
        0,
    ),
    "22_verbagg_binary.R": (["nAGQ=0", 'print(gm_va.ranef()["item"])'], 0),
    "23_contraception.R": (
        [
            'pd.Categorical(Contraception["livch"] != "0", categories=[False, True])'
            '.rename_categories(["N", "Y"])',
            '"use ~ age + I(age^2) + urban + ch + (urban | district)"',
            "print(gm_con.anova(gm_con_slope))",
        ],
        0,
    ),
    "24_soup_clmm.R": (
        [
            'threshold="equidistant"',
            'threshold="symmetric"',
            "Hess = is dropped",
            "print(fm_soup.llf)",
        ],
        0,
    ),
    "25_cgd_coxme.R": (
        [
            '"Surv(tstart, tstop, status) ~ treat + age + (1 | center)"',
            "coxme reads (age | center) without a random intercept",
            "print(fit_cgd.cov_params())",
        ],
        0,
    ),
    "26_bodyweight_lme.R": (
        [
            'correlation=interlace.corCAR1(form="~Time | Rat")',
            'correlation=interlace.corCompSymm(form="~1 | Rat")',
            'fm_bw_cs.anova(fm_bw, names=["fm_bw_cs", "fm_bw"])',
        ],
        0,
    ),
    "27_ovary_lme.R": (
        ['"follicles ~ sin(2 * pi * Time) + cos(2 * pi * Time)"', "correlation=interlace.corAR1()"],
        0,
    ),
    "28_insteval_large.R": (['control={"calc_derivs": False}', "REML=False"], 0),
    "29_dyestuff2_singular.R": (
        [
            "print(fm_d2.is_singular)",
            'interlace.lmer("Yield ~ 1 + (1 | Batch)", Dyestuff2, REML=False)',
        ],
        0,
    ),
    "30_weights_offset.R": (
        [
            "np.tile([1, 2], 90)",
            'weights="w"',
            'offset="base"',
            '"Reaction ~ Days + offset(base) + (1 | Subject)"',
        ],
        0,
    ),
    "31_coxme_references.R": (
        [
            'lung_cc = lung[np.logical_not(pd.isna(lung["ph.ecog"]))]',
            '"Surv(time, status) ~ age + strata(sex) + (1 | inst)"',
            'lung_cc.assign(status=lambda d: d["status"] - 1 if d["status"].max() == 2 else',
            'eortc = pd.read_csv("fixtures/coxme/eortc.csv")',
            '"Surv(y, uncens) ~ trt + (1 + trt | center)"',
            "print(cgd_counting.llf)",
            "print(lung_breslow.fe_params)",
            "print(lung_breslow.ranef())",
            'print(lung_breslow.predict(type="risk"))',
            'print(lung_breslow.residuals(type="deviance"))',
        ],
        0,
    ),
    "32_lme_accessors.R": (
        [
            'fm_paste = interlace.lme("strength ~ 1", Pastes, random="~1 | batch/cask")',
            'random={"Subject": interlace.pdDiag("~age")},',
            "print(fm_ar.correlation_params)",
            "print(fm_ar.predict(Ovary.head(6)))",
            "print(fm_ar.coef_table())",
        ],
        0,
    ),
}


def test_every_corpus_script_has_expectations() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.R")) == sorted(EXPECTED)


#: Scripts with statements interlace cannot translate yet (kept: they are what R users
#: write), and how many.  Strict translation refuses them; ``strict=False`` comments them
#: out with a warning each.
UNTRANSLATED: dict[str, int] = {}


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_corpus_script(script: str) -> None:
    fragments, n_warnings = EXPECTED[script]
    source = (CORPUS / script).read_text(encoding="utf-8")
    untranslated = UNTRANSLATED.get(script, 0)
    if untranslated:
        with pytest.raises(TranslationError, match="not translated"):
            translate(source, filename=script)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        python = translate(source, filename=script, strict=not untranslated)
    ast.parse(python)
    compile(python, script, "exec")
    for fragment in fragments:
        assert fragment in python, f"{fragment!r} missing from:\n{python}"
    assert python.count("# interlace: untranslated:") == untranslated
    got = [w for w in caught if issubclass(w.category, TranslationWarning)]
    assert len(got) == n_warnings, [str(w.message) for w in got]
    for w in got:
        assert str(w.message).startswith(f"{script}:")
