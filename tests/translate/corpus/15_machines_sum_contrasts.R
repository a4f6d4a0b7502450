library(lme4)
library(nlme)
options(contrasts = c("contr.sum", "contr.poly"))
# machines and workers: nested random effects with sum-to-zero contrasts for Machine
fm_mach <- lmer(score ~ Machine + (1 | Worker) + (1 | Worker:Machine), data = Machines)
fixef(fm_mach)
VarCorr(fm_mach)
