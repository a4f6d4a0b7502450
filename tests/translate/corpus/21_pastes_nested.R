library(lme4)
# strength of paste: casks nested in batches
fm_nest <- lmer(strength ~ 1 + (1 | batch/cask), data = Pastes)
fm_nest2 <- lmer(strength ~ 1 + (1 | batch) + (1 | batch:cask), data = Pastes)
fm_batch <- update(fm_nest, . ~ . - (1 | batch/cask) + (1 | batch))
VarCorr(fm_nest)
