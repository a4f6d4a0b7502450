library(ordinal)
# discrimination study: sureness ratings with a random effect per respondent
fm_soup <- clmm(SURENESS ~ PROD + (1 | RESP), data = soup, link = "probit",
                threshold = "equidistant")
fm_soup_sym <- clmm(SURENESS ~ PROD + (1 | RESP), data = soup, threshold = "symmetric",
                    Hess = TRUE)
summary(fm_soup)
logLik(fm_soup)
