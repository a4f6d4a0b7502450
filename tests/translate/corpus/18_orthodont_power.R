library(lme4)
library(nlme)
# age^2 without I(): R reads it as age
fm_quad <- lmer(distance ~ age + age^2 + (1 | Subject), data = Orthodont)
fm_quad_ok <- lmer(distance ~ age + I(age^2) + (1 | Subject), data = Orthodont)
