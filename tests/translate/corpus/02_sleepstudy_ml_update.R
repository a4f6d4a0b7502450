library(lme4)
data(sleepstudy)

# maximum likelihood, then drop the slope's correlation and the fixed slope
fm_full <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = FALSE)
fm_nocor <- lmer(Reaction ~ Days + (Days || Subject), sleepstudy, REML = FALSE)
fm_null <- update(fm_full, . ~ . - Days)
anova(fm_null, fm_full)
anova(fm_nocor, fm_full)
fm_reml <- update(fm_full, REML = TRUE)
deviance(fm_full)
confint(fm_reml, method = "Wald")
confint(fm_reml, level = 0.9)
