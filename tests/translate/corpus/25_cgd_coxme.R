library(survival)
library(coxme)
# chronic granulomatous disease: recurrent infections (counting process), centres as random
fit_cgd <- coxme(Surv(tstart, tstop, status) ~ treat + age + (1 | center), data = cgd)
fit_cgd_slope <- coxme(Surv(tstart, tstop, status) ~ treat + (age | center), data = cgd)
fixef(fit_cgd)
vcov(fit_cgd)
