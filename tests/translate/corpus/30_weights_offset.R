library(lme4)
# prior weights and an offset
sleep <- sleepstudy
sleep$w <- rep(c(1, 2), 90)
sleep$base <- 250 + 0.5 * sleep$Days
fm_wt <- lmer(Reaction ~ Days + (Days | Subject), data = sleep, weights = w)
fm_off <- lmer(Reaction ~ Days + (1 | Subject), data = sleep, offset = base)
fm_off2 <- lmer(Reaction ~ Days + offset(base) + (1 | Subject), data = sleep, REML = FALSE)
