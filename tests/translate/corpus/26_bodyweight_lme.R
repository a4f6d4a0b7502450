library(nlme)
# rat body weights: random slopes with continuous-time AR(1) residuals
fm_bw <- lme(weight ~ Time * Diet, data = BodyWeight, random = ~ Time | Rat,
             correlation = corCAR1(form = ~ Time | Rat), method = "ML")
fm_bw_cs <- lme(weight ~ Time * Diet, data = BodyWeight, random = ~ 1 | Rat,
                correlation = corCompSymm(form = ~ 1 | Rat), method = "ML")
anova(fm_bw_cs, fm_bw)
