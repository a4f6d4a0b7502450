"""Model engines: the shared linear predictor and the response models built on it."""

from interlace.engine.gaussian import GaussianObjective, profiled_deviance
from interlace.engine.predictor import BlockedPredictor
from interlace.engine.protocol import LmmDesign, Predictor, RandomTermDesign
from interlace.engine.sparse_predictor import SparsePredictor

__all__ = [
    "BlockedPredictor",
    "GaussianObjective",
    "LmmDesign",
    "Predictor",
    "RandomTermDesign",
    "SparsePredictor",
    "profiled_deviance",
]
