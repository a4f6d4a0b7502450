library(lme4)
# contagious bovine pleuropneumonia: binomial GLMM, successes and failures
gm1 <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd),
             data = cbpp, family = binomial)
summary(gm1)
coef(summary(gm1))
gm_probit <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd),
                   data = cbpp, family = binomial(link = "probit"))
gm_agq <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd),
                data = cbpp, family = binomial, nAGQ = 10,
                control = glmerControl(optimizer = "bobyqa"))
anova(gm1, gm_agq)
predict(gm1, type = "response")
fixef(gm_probit)
