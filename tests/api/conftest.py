"""Make the LMM fixture loader (tests/engine/lmm_fixtures.py) importable here."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
