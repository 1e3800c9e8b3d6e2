"""The conformance report: a readable mismatch per item, a summary table, JUnit XML.

A carrier reads the terminal report once, when the gate fails: each failing item
with what was expected, what came and why (the CUSRSP's error codes and reasons,
which name the data element or the risk rule). Its CI reads the JUnit file, where
each item is a test case, so the failing ones show by name.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from lxml import etree
from rich.console import Console
from rich.table import Table

from service.harness.expect import Outcome, Report, Verdict

#: Failing items printed in full; the rest are counted (the JUnit file has them all).
SHOWN_FAILURES = 50


def print_report(report: Report, console: Console, *, shown: int = SHOWN_FAILURES) -> None:
    failures = report.failures()
    for verdict in failures[:shown]:
        _print_failure(verdict, console)
    if len(failures) > shown:
        console.print(f"… and {len(failures) - shown:,} more failing items (see --junit)")
    table = Table(title="Expectations", title_justify="left")
    table.add_column("outcome")
    table.add_column("items", justify="right")
    for outcome in Outcome:
        table.add_row(outcome.value, f"{report.count(outcome):,}")
    table.add_row("total", f"{len(report.verdicts):,}", style="bold")
    console.print(table)
    if failures:
        pairs = Table(title="Failing items by expected and got", title_justify="left")
        pairs.add_column("expected")
        pairs.add_column("got")
        pairs.add_column("items", justify="right")
        combined = Counter(
            (v.expectation.describe(), v.answer.decision if v.answer else "no answer")
            for v in failures
        )
        for (want, came), count in combined.most_common(15):
            pairs.add_row(want, came, f"{count:,}")
        console.print(pairs)


def _print_failure(verdict: Verdict, console: Console) -> None:
    expected = verdict.expectation
    where = f" ({expected.source})" if expected.source else ""
    console.print(f"[bold red]✗ {expected.item_id}[/]{where}", highlight=False)
    console.print(f"    expected: {expected.describe()}", highlight=False)
    got = verdict.answer
    if got is None:
        console.print("    got:      no answer before the timeout", highlight=False)
        return
    security = f", security {got.security}" if got.security else ""
    console.print(f"    got:      {got.decision}{security} to {got.in_reply_to}", highlight=False)
    for problem in verdict.problems:
        console.print(f"    - {problem}", highlight=False, markup=False)
    for finding in got.findings[:12]:
        console.print(f"    finding:  {finding}", highlight=False, markup=False)
    for reason in got.reasons[:8]:
        console.print(f"    reason:   {reason}", highlight=False, markup=False)


def write_junit(report: Report, path: Path, *, suite: str) -> None:
    """One test case per expected item: a failure element for a mismatch, an error
    element for a missing answer (the JUnit convention CI tools show as red)."""
    cases = etree.Element("testsuites")
    block = etree.SubElement(
        cases, "testsuite", name=suite, tests=str(len(report.verdicts)),
        failures=str(report.count(Outcome.MISMATCH)), errors=str(report.count(Outcome.MISSING)),
        skipped="0",
    )  # fmt: skip
    for verdict in report.verdicts:
        expected = verdict.expectation
        case = etree.SubElement(
            block, "testcase", classname=suite, name=expected.item_id, file=expected.source
        )
        got = verdict.answer
        if verdict.outcome == Outcome.MISSING:
            failure = etree.SubElement(case, "error", message="no answer before the timeout")
            failure.text = f"expected: {expected.describe()}"
        elif verdict.outcome == Outcome.MISMATCH and got is not None:
            failure = etree.SubElement(case, "failure", message="; ".join(verdict.problems))
            failure.text = "\n".join(
                [f"expected: {expected.describe()}", f"got: {got.decision} to {got.in_reply_to}"]
                + ([f"security: {got.security}"] if got.security else [])
                + [f"finding: {finding}" for finding in got.findings]
                + [f"reason: {reason}" for reason in got.reasons]
            )
    path.parent.mkdir(parents=True, exist_ok=True)
    etree.ElementTree(cases).write(
        str(path), xml_declaration=True, encoding="UTF-8", pretty_print=True
    )
