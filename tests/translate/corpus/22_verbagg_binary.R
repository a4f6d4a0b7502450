library(lme4)
# verbal aggression: crossed random effects for persons and items, binary response
gm_va <- glmer(r2 ~ Anger + Gender + btype + situ + (1 | id) + (1 | item),
               family = binomial, data = VerbAgg, nAGQ = 0)
summary(gm_va)
ranef(gm_va)$item
