library(ordinal)
# bitterness of wine: cumulative link mixed model
fm_clmm <- clmm(rating ~ temp + contact + (1 | judge), data = wine)
summary(fm_clmm)
fm_clmm$alpha
fm_clmm$beta
coef(fm_clmm)
fm_probit <- clmm(rating ~ temp + contact + (1 | judge), data = wine, link = "probit",
                  threshold = "equidistant", nAGQ = 5)
fm_temp <- clmm(rating ~ temp + (1 | judge), data = wine)
anova(fm_temp, fm_clmm)
confint(fm_clmm)
VarCorr(fm_clmm)
