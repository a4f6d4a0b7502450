library(lme4)
# a large crossed design: teacher evaluations (73421 rows)
fm_ie <- lmer(y ~ service + lectage + (1 | s) + (1 | d) + (1 | dept:service),
              data = InstEval, REML = FALSE,
              control = lmerControl(calc.derivs = FALSE))
sigma(fm_ie)
