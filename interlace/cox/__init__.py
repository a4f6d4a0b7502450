"""Cox proportional-hazards models with Gaussian random effects (coxme's method).

Modules: :mod:`~interlace.cox.risksets` (who is at risk when), :mod:`~interlace.cox.partial`
(partial likelihood with Efron or Breslow ties), :mod:`~interlace.cox.coxph` (survival's
Newton-Raphson without random effects), :mod:`~interlace.cox.variance` (coxme's variance
family and coefficient layout), :mod:`~interlace.cox.penalized` (penalised partial likelihood
and its Newton-Raphson), :mod:`~interlace.cox.design` (formula and data to a design) and
:mod:`~interlace.cox.fit` (the integrated likelihood maximised as coxme does).
"""
