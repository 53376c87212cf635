"""Coverage rules: agreements and regimes as dated, cited data, and the engine that applies them."""

from chalicelib.rules.engine import assess
from chalicelib.rules.rulebook import Rulebook, RulebookError, load_rulebook

__all__ = ["Rulebook", "RulebookError", "assess", "load_rulebook"]
