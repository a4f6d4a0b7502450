library(lme4)
options(digits = 4)
# crossed random effects: plates and samples
fm_pen <- lmer(diameter ~ 1 + (1 | plate) + (1 | sample), data = Penicillin)
summary(fm_pen)
VarCorr(fm_pen)
ranef(fm_pen)$plate
