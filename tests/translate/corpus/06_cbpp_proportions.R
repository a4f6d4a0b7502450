library(lme4)
# the same model written with proportions: needs the number of trials as weights
cbpp$prop <- cbpp$incidence / cbpp$size
gm_w <- glmer(prop ~ period + (1 | herd), family = binomial, weights = size, data = cbpp)
# without weights R treats each row as one trial (a different model)
gm_now <- glmer(incidence / size ~ period + (1 | herd), family = binomial, data = cbpp)
