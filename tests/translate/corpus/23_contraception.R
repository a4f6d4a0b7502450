library(lme4)
library(mlmRev)
# a factor response: the first level ("N") is failure, the others success
Contraception$ch <- factor(Contraception$livch != "0", labels = c("N", "Y"), levels = c(FALSE, TRUE))
gm_con <- glmer(use ~ age + I(age^2) + urban + ch + (1 | district),
                data = Contraception, family = binomial(link = "logit"))
gm_con_slope <- glmer(use ~ age + I(age^2) + urban + ch + (urban | district),
                      data = Contraception, family = binomial)
anova(gm_con, gm_con_slope)
