# chick growth: random slopes over time, diet 4 as the reference
library(lme4)
data(ChickWeight)
cw <- ChickWeight
cw$Diet <- relevel(cw$Diet, ref = "4")
cw$Time_wk <- cw$Time / 7
fm_chick <- lmer(weight ~ Time_wk * Diet + (Time_wk | Chick), data = cw, REML = FALSE)
fm_chick_quad <- lmer(weight ~ poly(Time_wk, 2) + Diet + (1 | Chick), data = cw)
fixef(fm_chick)
