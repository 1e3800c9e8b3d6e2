"""The fault table: one JSON file per row, written by the fault tests, rendered as Markdown.

Each fault test (tests/e2e/test_faults.py, tests/e2e/test_no_loss.py) opens its
row at the start and fills in what it measures; the `fault_rows` fixture
(tests/e2e/conftest.py) writes it with the test's outcome when the test ends,
also when it failed, so the table shows what was measured, not what was hoped.

    python -m tests.e2e.fault_table                        # print the table
    python -m tests.e2e.fault_table --write docs/faults.md # write the page
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

#: Where the rows go: out/ is git-ignored.
RESULTS = Path(__file__).resolve().parents[2] / "out" / "faults"

#: How long a test waits for recovery before it counts what is still unanswered as lost.
RECOVERY_TIMEOUT_S = 240.0

_DATABASES = {"SQLite": 0, "PostgreSQL": 1}


@dataclass
class FaultRow:
    """One measured fault. Figures stay None until measured (a test that failed early)."""

    #: Row number in the table: "1a", "2", ...
    number: str
    fault: str
    database: str
    #: Items the API accepted (202) in the test, fault or not.
    accepted: int | None = None
    in_flight: int | None = None
    lost: int | None = None
    duplicated: int | None = None
    recovery_s: float | None = None
    #: Fault-specific figures and how the fault was made ("refusals": 12, "method": "tmpfs").
    notes: dict[str, object] = field(default_factory=dict)
    test: str = ""
    outcome: str = "not run"
    failure: str | None = None
    duration_s: float | None = None
    measured_at: str = ""

    @property
    def key(self) -> str:
        """The file name: stable per row, so a new run replaces the old figures."""
        slug = re.sub(r"[^a-z0-9]+", "-", f"{self.number} {self.database}".lower()).strip("-")
        return _sort_prefix(self.number) + slug

    def save(self, directory: Path = RESULTS) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        self.measured_at = self.measured_at or datetime.now(UTC).isoformat(timespec="seconds")
        path = directory / f"{self.key}.json"
        path.write_text(json.dumps(asdict(self), indent=2, default=str) + "\n", encoding="utf-8")
        return path


def _sort_prefix(number: str) -> str:
    digits = re.match(r"\d+", number)
    return f"{int(digits.group()) if digits else 99:02d}-"


def load(directory: Path = RESULTS) -> list[FaultRow]:
    """Every row in `directory`, in table order (number, then SQLite before PostgreSQL)."""
    rows = [
        FaultRow(**json.loads(path.read_text(encoding="utf-8")))
        for path in sorted(directory.glob("*.json"))
    ]
    return sorted(rows, key=lambda r: (_number_key(r.number), _DATABASES.get(r.database, 9)))


def _number_key(number: str) -> tuple[int, str]:
    digits = re.match(r"\d+", number)
    return (int(digits.group()) if digits else 99, number)


HEADER = f"""# Fault table

Every row is measured by a test that injects the fault into the running pipeline
(API, relay, validate, assess, respond, embedded Tansu broker, database), under
traffic, and asserts that nothing accepted is lost and nothing is doubled. Rows
1 and 3 come from `tests/e2e/test_no_loss.py`, the others from
`tests/e2e/test_faults.py`; the stages run as worker processes under the
Supervisor that `aedex run` uses, which restarts a dead worker or broker.
Recovery is automatic: once the fault ends the test only watches.

Regenerate: `pytest -m slow -n 2 tests/e2e/test_no_loss.py tests/e2e/test_faults.py`,
then `python -m tests.e2e.fault_table --write docs/faults.md`.

- **accepted**: items the API accepted (HTTP 202) during the test.
- **in flight**: items accepted but not yet answered (no CUSRSP answer row) when
  the fault was injected.
- **lost**: accepted items still without their answer once recovered (or after
  {RECOVERY_TIMEOUT_S:.0f} s).
- **duplicated**: anything stored twice: an inbox message (or one message
  accepted under two inbox ids), item rows beyond its message's item count, a
  second answer to an item, a second assessment, security response or review
  task of an item.
- **recovery**: seconds from the end of the fault until every item accepted
  before that moment has its answer and each of their messages is settled,
  polled every 0.1 s. It includes working off the backlog in flight. The end of
  the fault is the kill itself for a kill -9 (the Supervisor restarts the
  victim), the restart for the API, the lock released, the server started
  again, the disk freed, the poison records written, the last upload aborted,
  the second worker killed. *re-published* in the notes counts messages the
  relay sent again because they were not settled in time (`reconcile_after_s`):
  a recovery that waited for it is at least that long.
- **result**: the test's outcome when the row was measured; a failure's reason
  is listed under the table.
"""

_COLUMNS: tuple[str, ...] = ("#", "fault", "database", "accepted", "in flight", "lost")
_COLUMNS += ("duplicated", "recovery (s)", "result", "notes", "test time (s)")


def render(rows: list[FaultRow]) -> str:
    lines = [HEADER, "| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    for row in rows:
        cells = [
            row.number,
            row.fault,
            row.database,
            _figure(row.accepted),
            _figure(row.in_flight),
            _figure(row.lost),
            _figure(row.duplicated),
            "—" if row.recovery_s is None else f"{row.recovery_s:.1f}",
            "pass" if row.outcome == "passed" else f"**{row.outcome.upper()}**",
            "; ".join(f"{name}: {_note(value)}" for name, value in row.notes.items()),
            "—" if row.duration_s is None else f"{row.duration_s:.0f}",
        ]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    failed = [row for row in rows if row.failure]
    if failed:
        lines += ["", "## Failures", ""]
        for row in failed:
            reason = " ".join((row.failure or "").split())
            lines.append(f"- **{row.number} {row.database}** (`{row.test}`): {reason}")
    dates = sorted(row.measured_at for row in rows if row.measured_at)
    if dates:
        lines += ["", f"Measured {dates[0]} to {dates[-1]} (UTC)."]
    return "\n".join(lines) + "\n"


#: README holds the compact table between these markers (`--readme README.md` rewrites it).
README_START = "<!-- fault-table:start (python -m tests.e2e.fault_table --readme README.md) -->"
README_END = "<!-- fault-table:end -->"


def render_summary(rows: list[FaultRow]) -> str:
    """The compact table for README: what each fault cost; the page has the notes."""
    columns = (
        "#",
        "fault",
        "database",
        "in flight",
        "lost",
        "duplicated",
        "recovery (s)",
        "result",
    )
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = [
            row.number, row.fault, row.database, _figure(row.in_flight), _figure(row.lost),
            _figure(row.duplicated),
            "—" if row.recovery_s is None else f"{row.recovery_s:.1f}",
            "pass" if row.outcome == "passed" else f"**{row.outcome.upper()}**",
        ]  # fmt: skip
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def replace_in_readme(readme: Path, rows: list[FaultRow]) -> None:
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(README_START) + len(README_START), text.index(README_END)
    readme.write_text(text[:start] + "\n" + render_summary(rows) + text[end:], encoding="utf-8")


def _figure(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _note(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.fault_table", description=__doc__)
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of row JSON files")
    parser.add_argument("--write", type=Path, help="write the Markdown page here")
    parser.add_argument("--readme", type=Path, help="rewrite the compact table in this README")
    args = parser.parse_args(argv)
    rows = load(args.results)
    if not rows:
        sys.stderr.write(f"no fault rows in {args.results}: run the fault tests first\n")
        return 1
    page = render(rows)
    if args.readme is not None:
        replace_in_readme(args.readme, rows)
        sys.stderr.write(f"wrote the compact table of {len(rows)} rows to {args.readme}\n")
    if args.write is not None:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(page, encoding="utf-8")
        sys.stderr.write(f"wrote {len(rows)} rows to {args.write}\n")
    else:
        sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
