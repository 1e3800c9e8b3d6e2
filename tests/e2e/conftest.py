"""The `fault_rows` fixture: a fault test's measured rows, written with the test's outcome."""

from __future__ import annotations

from collections.abc import Generator, Iterator

import pytest

from tests.e2e.fault_table import FaultRow

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Keep each phase's report, so a fixture's teardown knows how the test went.
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


class FaultRows:
    """Rows a test opens at its start and fills in as it measures."""

    def __init__(self) -> None:
        self.rows: list[FaultRow] = []

    def open(self, number: str, fault: str, database: str) -> FaultRow:
        row = FaultRow(number=number, fault=fault, database=database)
        self.rows.append(row)
        return row


@pytest.fixture
def fault_rows(request: pytest.FixtureRequest) -> Iterator[FaultRows]:
    """Written to out/faults/ when the test ends, passed or failed (a skip writes nothing)."""
    rows = FaultRows()
    yield rows
    report = request.node.stash.get(_REPORTS, {}).get("call")
    if report is None or report.skipped:
        return
    for row in rows.rows:
        row.test = request.node.nodeid
        row.outcome = report.outcome
        row.duration_s = round(report.duration, 1)
        if report.failed:
            row.failure = _reason(report)
        row.save()


def _reason(report: pytest.TestReport) -> str:
    """The failure's message (the assertion or exception line), not the whole traceback."""
    crash = getattr(report.longrepr, "reprcrash", None)
    message = str(getattr(crash, "message", None) or report.longreprtext)
    return message[:600]
