library(glmmTMB)
# a linear mixed model fitted with glmmTMB: maximum likelihood unless REML = TRUE
m_ml <- glmmTMB(Reaction ~ Days + (Days || Subject), data = sleepstudy)
m_reml <- glmmTMB(Reaction ~ Days + (Days | Subject), data = sleepstudy, REML = TRUE,
                  dispformula = ~ 1)
logLik(m_ml)
sigma(m_reml)
