library(lme4)
# tick counts on grouse chicks: Poisson and negative binomial GLMMs
gp <- glmer(TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION),
            family = poisson, data = grouseticks)
gnb <- glmer.nb(TICKS ~ YEAR + cHEIGHT + (1 | BROOD), data = grouseticks)
summary(gnb)
AIC(gp, gnb)
