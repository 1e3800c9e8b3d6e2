"""Run every benchmark: `python -m benchmarks [name ...]`."""

from __future__ import annotations

import sys

from benchmarks import parse_validate, pipeline_e2e, risk_engine

BENCHMARKS = {
    "parse_validate": parse_validate.main,
    "risk_engine": risk_engine.main,
    "pipeline_e2e": pipeline_e2e.main,
}


def main(argv: list[str]) -> None:
    names = argv or list(BENCHMARKS)
    for name in names:
        BENCHMARKS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
