library(nlme)
# ovarian follicles: seasonal trend with AR(1) errors within mares
fm_ov <- lme(follicles ~ sin(2 * pi * Time) + cos(2 * pi * Time), data = Ovary,
             random = ~ 1 | Mare, correlation = corAR1())
summary(fm_ov)
fixef(fm_ov)
