## Times an ordinal::clmm fit of one benchmark case; called through benchmarks/sidebyside.py by
## clmm_vs_ordinal.py.
## Usage: Rscript benchmarks/ordinal_fits.R <case> <repeats>
## Prints one JSON object: median elapsed and CPU seconds per fit (Hessian included, ordinal's
## default Hess = TRUE), evaluations of the objective (`fit$neval`: optimiser, finite-difference
## gradient and Hessian; `fit$Niter` inner Newton iterations for the modes are not counted), the
## objective (-2 log-likelihood), peak R heap (MB).
suppressPackageStartupMessages({ library(ordinal); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
case <- args[1]
reps <- as.integer(args[2])
data(wine, soup, package = "ordinal")
calls <- list(
  soup = quote(clmm(SURENESS ~ PROD + (1 | RESP), data = soup)),
  wine = quote(clmm(rating ~ temp + contact + (1 | judge), data = wine)),
  wine_crossed = quote(clmm(rating ~ temp + contact + (1 | judge) + (1 | bottle), data = wine)),
  soup_nested = quote(clmm(SURENESS ~ PROD + (1 | RESP/PRODID), data = soup)),
  soup_crossed = quote(clmm(SURENESS ~ PROD + (1 | RESP) + (1 | PRODID), data = soup))
)
invisible(gc(reset = TRUE))
elapsed <- cpu <- numeric(reps)
for (i in seq_len(reps)) {
  t <- system.time(fit <- eval(calls[[case]]))
  elapsed[i] <- t[["elapsed"]]
  cpu[i] <- t[["user.self"]] + t[["sys.self"]]
}
mem <- gc()
cat(toJSON(list(case = case, elapsed = median(elapsed), cpu = median(cpu), reps = reps,
                feval = fit$neval, objective = -2 * as.numeric(logLik(fit)),
                peak_mb = sum(mem[, ncol(mem)]),
                ordinal = as.character(packageVersion("ordinal")), R = R.version.string),
           auto_unbox = TRUE, digits = I(10)), "\n")
