library(lmerTest)
# lmerTest: Satterthwaite and Kenward-Roger tests
fm <- lmer(Reaction ~ Days + (Days | Subject), sleepstudy)
summary(fm)
anova(fm)
anova(fm, type = 2, ddf = "Kenward-Roger")
summary(fm, ddf = "Kenward-Roger")
