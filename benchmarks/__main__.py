"""Run every benchmark: `python -m benchmarks [name ...]`."""

from __future__ import annotations

import sys
from collections.abc import Callable

from benchmarks import (
    backtest_speed,
    parse_validate,
    pipeline_e2e,
    replay_conformance,
    risk_engine,
    stage_profile,
    validate_scaleout,
)

BENCHMARKS: dict[str, Callable[[], object]] = {
    "parse_validate": parse_validate.main,
    "risk_engine": risk_engine.main,
    "stage_profile": lambda: stage_profile.main([]),
    "pipeline_e2e": pipeline_e2e.main,
    "validate_scaleout": validate_scaleout.main,
    "replay_conformance": lambda: replay_conformance.main([]),
    "backtest_speed": lambda: backtest_speed.main([]),
}


def main(argv: list[str]) -> None:
    names = argv or list(BENCHMARKS)
    unknown = [name for name in names if name not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    for name in names:
        BENCHMARKS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
