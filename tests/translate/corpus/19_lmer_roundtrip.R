# data preparation around lmer fits: factors, contrasts, subsets, updates
library(lme4)
library(nlme)
data(cake, package = "lme4")
cake$rec <- relevel(cake$recipe, ref = "C")
contrasts(cake$rec) <- contr.sum(3)
fm_cake <- lmer(angle ~ rec + temp + (1 | replicate), data = cake, REML = FALSE)
fm_cake2 <- update(fm_cake, . ~ . + rec:temp)

sleep <- sleepstudy
sleep$Days_c <- scale(sleep$Days)
sleep$grp <- factor(ifelse(sleep$Days > 4, "late", "early"))
fm_sc <- lmer(Reaction ~ Days_c + (1 | Subject), sleep)
fm_grp <- lmer(Reaction ~ grp + (1 | Subject), data = sleep, subset = Days != 0)
fm_ortho <- lmer(distance ~ age * Sex + (1 | Subject), data = Orthodont,
                 contrasts = list(Sex = "contr.sum"))
fm_ortho_ml <- update(fm_ortho, REML = FALSE)
