## Times lme4::lmer on the benchmark cases; called by benchmarks/lmm_vs_lme4.py.
## Usage: Rscript benchmarks/lmm_lme4.R <case> <repeats>
## Prints one JSON object: median elapsed and CPU seconds per fit, evaluations, peak R heap (MB).
suppressPackageStartupMessages({ library(lme4); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
case <- args[1]
reps <- as.integer(args[2])
calls <- list(
  sleepstudy = quote(lmer(Reaction ~ Days + (Days | Subject), sleepstudy)),
  penicillin = quote(lmer(diameter ~ 1 + (1 | plate) + (1 | sample), Penicillin)),
  insteval_ml = quote(lmer(y ~ service + (1 | s) + (1 | d) + (1 | dept), InstEval, REML = FALSE)),
  insteval_reml = quote(lmer(y ~ service * dept + (1 | s) + (1 | d), InstEval))
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
                feval = fit@optinfo$feval, objective = unname(if (isREML(fit)) REMLcrit(fit) else deviance(fit)),
                peak_mb = sum(mem[, ncol(mem)]),
                lme4 = as.character(packageVersion("lme4")), R = R.version.string),
           auto_unbox = TRUE, digits = I(10)), "\n")
