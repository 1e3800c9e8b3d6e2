"""Run saved inputs through one target, without atheris: the way to reproduce a crash.

    python -m tests.fuzz.replay TARGET FILE...

Exits 1 with the traceback of the first input that crashes, 0 when none does.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from tests.fuzz.targets import TARGETS


def main(argv: list[str] | None = None) -> int:
    """Replay each file; print what it did so a report can quote it."""
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.replay", description=__doc__)
    parser.add_argument("target", choices=sorted(TARGETS))
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    target = TARGETS[args.target]
    for path in args.files:
        try:
            target(path.read_bytes())
        except Exception:  # a crash is what we are here to show
            print(f"{args.target}: {path}: CRASH", file=sys.stderr)
            traceback.print_exc()
            return 1
        print(f"{args.target}: {path}: ok", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
