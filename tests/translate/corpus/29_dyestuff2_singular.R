library(lme4)
# a boundary (singular) fit: the batch variance is estimated as zero
fm_d2 <- lmer(Yield ~ 1 + (1 | Batch), Dyestuff2)
isSingular(fm_d2)
VarCorr(fm_d2)
fm_d2_ml <- update(fm_d2, REML = FALSE)
