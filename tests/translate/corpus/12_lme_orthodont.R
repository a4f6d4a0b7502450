library(nlme)
# orthodontic growth curves with nlme
fm_lme <- lme(distance ~ age + Sex, data = Orthodont, random = ~ 1 | Subject)
fm_ml <- lme(distance ~ age + Sex, data = Orthodont, random = ~ age | Subject, method = "ML")
fm_ar1 <- lme(fixed = distance ~ age, random = ~ 1 | Subject, data = Orthodont,
              correlation = corAR1(form = ~ 1 | Subject))
summary(fm_lme)
fixef(fm_lme)
VarCorr(fm_ml)
fm_lme$sigma
