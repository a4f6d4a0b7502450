## Times an lme4 fit of one benchmark case; called through benchmarks/sidebyside.py by
## lmm_vs_lme4.py (lmer cases) and glmm_vs_lme4.py (glmer cases).
## Usage: Rscript benchmarks/lme4_fits.R <case> <repeats>
## Prints one JSON object: median elapsed and CPU seconds per fit, evaluations
## (`optinfo$feval`; for glmer the second stage's), the objective (lmer: REML criterion or
## deviance; glmer: -2 log-likelihood), peak R heap (MB).
suppressPackageStartupMessages({ library(lme4); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
case <- args[1]
reps <- as.integer(args[2])
data(VerbAgg, grouseticks, cbpp, package = "lme4")
## InstEval's ratings of 4 and 5 against the rest: a binary crossed GLMM of 73,421 rows
InstEvalGood <- transform(lme4::InstEval, good = as.numeric(y > 3))
calls <- list(
  sleepstudy = quote(lmer(Reaction ~ Days + (Days | Subject), sleepstudy)),
  penicillin = quote(lmer(diameter ~ 1 + (1 | plate) + (1 | sample), Penicillin)),
  insteval_ml = quote(lmer(y ~ service + (1 | s) + (1 | d) + (1 | dept), InstEval, REML = FALSE)),
  insteval_reml = quote(lmer(y ~ service * dept + (1 | s) + (1 | d), InstEval)),
  cbpp = quote(glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, binomial)),
  grouseticks = quote(glmer(TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION),
                            grouseticks, poisson)),
  verbagg = quote(glmer(r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), VerbAgg,
                        binomial)),
  insteval_good = quote(glmer(good ~ service + (1 | s) + (1 | d), InstEvalGood, binomial))
)
invisible(gc(reset = TRUE))
elapsed <- cpu <- numeric(reps)
for (i in seq_len(reps)) {
  t <- system.time(fit <- suppressMessages(eval(calls[[case]])))
  elapsed[i] <- t[["elapsed"]]
  cpu[i] <- t[["user.self"]] + t[["sys.self"]]
}
mem <- gc()
objective <- if (isLMM(fit)) {
  unname(if (isREML(fit)) REMLcrit(fit) else deviance(fit))
} else {
  -2 * as.numeric(logLik(fit))
}
cat(toJSON(list(case = case, elapsed = median(elapsed), cpu = median(cpu), reps = reps,
                feval = fit@optinfo$feval, objective = objective,
                peak_mb = sum(mem[, ncol(mem)]),
                lme4 = as.character(packageVersion("lme4")), R = R.version.string),
           auto_unbox = TRUE, digits = I(10)), "\n")
