library(survival)
library(coxme)
# the coxme models of the frozen coxme 2.2-22 reference outputs (fixtures/coxme); their lung
# data had the rows with a missing ph.ecog removed
lung_cc <- subset(lung, !is.na(ph.ecog))
lung_strata <- coxme(Surv(time, status) ~ age + strata(sex) + (1 | inst), data = lung_cc)
lung_breslow <- coxme(Surv(time, status) ~ ph.ecog + age + (1 | inst), data = lung,
                      ties = "breslow")
cgd_counting <- coxme(Surv(tstart, tstop, status) ~ treat + (1 | id), data = cgd)
eortc <- read.csv("fixtures/coxme/eortc.csv")
eortc_slope <- coxme(Surv(y, uncens) ~ trt + (1 + trt | center), data = eortc)
fixef(eortc_slope)
VarCorr(lung_strata)
logLik(cgd_counting, type = "integrated")
# coef() is fixef() for coxme; predictions and residuals with the random effects as an offset
coef(lung_breslow)
logLik(lung_breslow)
ranef(lung_breslow)
predict(lung_breslow)
predict(lung_breslow, type = "risk")
residuals(lung_breslow, type = "deviance")
