library(nlme)
# nlme's accessors: nested random effects, a diagonal covariance, a correlation parameter
data("Pastes", package = "lme4")
fm_paste <- lme(strength ~ 1, data = Pastes, random = ~ 1 | batch/cask)
VarCorr(fm_paste)
ranef(fm_paste)
logLik(fm_paste)
fm_diag <- lme(distance ~ age, data = Orthodont, random = list(Subject = pdDiag(~ age)),
               method = "ML")
fixef(fm_diag)
AIC(fm_diag)
BIC(fm_diag)
sigma(fm_diag)
fm_ar <- lme(follicles ~ sin(2 * pi * Time), data = Ovary, random = ~ 1 | Mare,
             correlation = corAR1(form = ~ 1 | Mare))
coef(fm_ar$modelStruct$corStruct, unconstrained = FALSE)
head(fitted(fm_ar))
head(residuals(fm_ar))
predict(fm_ar, newdata = head(Ovary))
summary(fm_ar)$tTable
