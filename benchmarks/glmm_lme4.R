## Times lme4::glmer on the GLMM benchmark cases; called by benchmarks/glmm_vs_lme4.py.
## Usage: Rscript benchmarks/glmm_lme4.R <case> <repeats>
## Prints one JSON object: median elapsed and CPU seconds per fit, evaluations
## (`optinfo$feval`: the second stage's), -2 log-likelihood, peak R heap (MB).
suppressPackageStartupMessages({ library(lme4); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
case <- args[1]
reps <- as.integer(args[2])
data(VerbAgg, grouseticks, cbpp, package = "lme4")
calls <- list(
  cbpp = quote(glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, binomial)),
  grouseticks = quote(glmer(TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION),
                            grouseticks, poisson)),
  verbagg = quote(glmer(r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item), VerbAgg,
                        binomial))
)
invisible(gc(reset = TRUE))
elapsed <- cpu <- numeric(reps)
for (i in seq_len(reps)) {
  t <- system.time(fit <- suppressMessages(eval(calls[[case]])))
  elapsed[i] <- t[["elapsed"]]
  cpu[i] <- t[["user.self"]] + t[["sys.self"]]
}
mem <- gc()
cat(toJSON(list(case = case, elapsed = median(elapsed), cpu = median(cpu), reps = reps,
                feval = fit@optinfo$feval, objective = -2 * as.numeric(logLik(fit)),
                peak_mb = sum(mem[, ncol(mem)]),
                lme4 = as.character(packageVersion("lme4")), R = R.version.string),
           auto_unbox = TRUE, digits = I(10)), "\n")
