"""Pre-arrival risk assessment: rules as data, compiled once, every hit explained.

Pure library (no I/O beyond reading a ruleset or reference file a caller
names): the pipeline and the CLI wire it to traffic.
"""

from risk.compiler import Rule, Ruleset, compile_ruleset, load_ruleset
from risk.engine import Assessment, Engine, Hit
from risk.errors import ExpressionError, RuleProblem, RulesetError
from risk.goldens import GoldenResult, assess_golden, build_item, run_golden_tests
from risk.state import InMemoryState, Reference, RiskState
from risk.watchlist import WatchHit, Watchlist, WatchlistEntry


def default_ruleset() -> Ruleset:
    """The packaged default ruleset (`risk/rules/default.yaml`)."""
    from importlib import resources

    text = resources.files("risk").joinpath("rules/default.yaml").read_text("utf-8")
    return compile_ruleset(text)


__all__ = [
    "Assessment",
    "Engine",
    "ExpressionError",
    "GoldenResult",
    "Hit",
    "InMemoryState",
    "Reference",
    "RiskState",
    "Rule",
    "RuleProblem",
    "Ruleset",
    "RulesetError",
    "WatchHit",
    "Watchlist",
    "WatchlistEntry",
    "assess_golden",
    "build_item",
    "compile_ruleset",
    "default_ruleset",
    "load_ruleset",
    "run_golden_tests",
]
