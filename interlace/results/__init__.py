"""Fitted-model results and their lme4-style tables and printouts."""

from interlace.results.lmer_result import LmerResult, assemble_lmer
from interlace.results.summary import LmerSummary

__all__ = ["LmerResult", "LmerSummary", "assemble_lmer"]
