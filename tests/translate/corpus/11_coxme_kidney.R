library(survival)
library(coxme)
# recurrence times of kidney infections with a random effect per patient
fit <- coxme(Surv(time, status) ~ age + sex + (1 | id), data = kidney)
fixef(fit)
logLik(fit)
logLik(fit, type = "integrated")
VarCorr(fit)
fit_breslow <- coxme(Surv(time, status) ~ age + sex + (1 | id), data = kidney, ties = "breslow")
# lung: status is coded 1 = censored, 2 = dead
fit_lung <- coxme(Surv(time, status) ~ age + ph.ecog + (1 | inst), data = lung)
anova(fit_breslow, fit)
