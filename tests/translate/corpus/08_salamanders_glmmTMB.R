library(glmmTMB)
# zero-inflated counts of salamanders
zip <- glmmTMB(count ~ mined + (1 | site), zi = ~ mined, family = poisson, data = Salamanders)
znb <- glmmTMB(count ~ spp + mined + (1 | site), ziformula = ~ spp + mined,
               family = nbinom2, data = Salamanders)
fixef(zip)$cond
fixef(znb)$zi
fixef(znb)
summary(znb)
anova(zip, znb)
