library(lme4)
sleep2 <- sleepstudy |> subset(Days >= 2)
sleep2$Days2 <- sleep2$Days - 2
fm_sub <- lmer(Reaction ~ Days2 + (Days2 | Subject), data = sleep2)
fm_w <- lmer(Reaction ~ Days + (1 | Subject), data = sleepstudy, subset = Days > 0)
mean_reaction <- with(sleep2, mean(Reaction))
fixef(fm_sub)
