"""Coverage rules: agreements and regimes as dated, cited data, and the engine that applies them."""

from chalicelib.rules.engine import assess, assess_journey
from chalicelib.rules.multistate import suggest_multi_state
from chalicelib.rules.rulebook import Rulebook, RulebookError, load_rulebook

__all__ = ["Rulebook", "RulebookError", "assess", "assess_journey", "load_rulebook", "suggest_multi_state"]
