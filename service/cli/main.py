"""The `aedex` command line (typer)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console

from service.cli.broker_cli import register as register_broker_commands
from service.cli.convert_cli import register as register_convert_commands
from service.cli.db_cli import register as register_db_commands
from service.cli.failures import AedexGroup
from service.cli.filecheck import FileReport, check_file
from service.cli.harness_cli import register as register_harness_commands
from service.cli.pipeline_cli import register as register_pipeline_commands
from service.cli.replay_cli import register as register_replay_commands
from service.cli.risk_cli import register as register_risk_commands
from service.cli.users_cli import register as register_user_commands

# AedexGroup: any failure of any command ends in one line on stderr, never a traceback.
app = typer.Typer(
    cls=AedexGroup,
    name="aedex",
    help="Advance electronic data exchange: run the pipeline, validate, generate, assess.",
    no_args_is_help=True,
    add_completion=False,
)

EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE = 0, 1, 2


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="ITMATT, CUSITM, CUSRSP or manifest files")],
    json_output: Annotated[
        bool, typer.Option("--json", help="one JSON object per file, one per line")
    ] = False,
) -> None:
    """Validate message files. Exit 0: no error finding; 1: an error finding; 2: unreadable file."""
    console = Console(highlight=False, soft_wrap=True, width=200)
    unreadable = False
    any_error = False
    for path in files:
        try:
            data = path.read_bytes()
        except OSError as exc:
            unreadable = True
            sys.stderr.write(f"{path}: cannot read: {exc.strerror or exc}\n")
            continue
        report = check_file(str(path), data)
        any_error = any_error or report.has_error
        if json_output:
            sys.stdout.write(orjson.dumps(report.as_dict()).decode() + "\n")
        else:
            _print_report(console, report)
    if unreadable:
        raise typer.Exit(EXIT_UNREADABLE)
    raise typer.Exit(EXIT_FINDINGS if any_error else EXIT_OK)


@app.command()
def generate(
    items: Annotated[int, typer.Option(help="number of items to generate")] = 1000,
    seed: Annotated[int, typer.Option(help="same seed, same bytes")] = 1,
    out: Annotated[Path, typer.Option(help="output directory")] = Path("out/traffic"),
    defects: Annotated[
        bool, typer.Option(help="inject one validation defect into some items, labelled")
    ] = False,
    defect_rate: Annotated[float, typer.Option(help="share of items with a defect")] = 0.1,
    items_per_message: Annotated[int, typer.Option(help="items per ITMATT/CUSITM")] = 50,
    scenarios: Annotated[
        bool, typer.Option(help="plant labelled risk scenarios (valid data, customs risk)")
    ] = False,
    scenario_rate: Annotated[
        float, typer.Option(help="share of item draws that become a risk scenario")
    ] = 0.04,
    base_time: Annotated[
        str | None,
        typer.Option(
            metavar="TIME",
            help="when the traffic is current, ISO 8601 with offset (default: now, to the "
            "second): prepared by then, posted within 72 h before, arriving after; same seed "
            "and base time, same bytes",
        ),
    ] = None,
) -> None:
    """Write realistic, reproducible ITMATT/CUSITM/manifest traffic with labels.jsonl.

    Posted within 2 h of its base time, the traffic is current: only items labelled
    LATE_DATA are late.
    """
    from adapters.generator import GeneratorOptions, write_traffic
    from service.cli.event_time import now, parse_time

    current = now() if base_time is None else parse_time(base_time, "--base-time")
    options = GeneratorOptions(
        items=items,
        seed=seed,
        base_time=current,
        defects=defects,
        defect_rate=defect_rate,
        items_per_message=items_per_message,
        scenarios=scenarios,
        scenario_rate=scenario_rate,
    )
    summary = write_traffic(out, options)
    files = ", ".join(f"{n} {kind}" for kind, n in sorted(summary.files.items()))
    console = Console(highlight=False, soft_wrap=True)
    console.print(
        f"wrote {summary.total_items} items to {out} ({files}); "
        f"{summary.defective_items} items carry a defect, "
        f"{summary.message_defects} hostile or broken messages; labels in {out / 'labels.jsonl'}; "
        f"current at {current.isoformat()}"
    )
    if scenarios:
        per_class = ", ".join(f"{name} {n}" for name, n in summary.scenario_items.items())
        total = sum(summary.scenario_items.values())
        console.print(f"{total} items carry a risk scenario: {per_class or 'none'}")


def _print_report(console: Console, report: FileReport) -> None:
    errors = sum(f.is_error for f in report.findings)
    warnings = len(report.findings) - errors
    if report.refused:
        status = "[red]REFUSED[/] "
    elif report.rejected_items:
        status = "[yellow]PARTIAL[/] "
    else:
        status = "[green]OK[/]      "
    console.print(
        f"{status}{report.file}: {report.type}, {report.items} items, "
        f"{len(report.rejected_items)} rejected; {errors} errors, {warnings} warnings",
        markup=True,
    )
    for f in report.findings:
        colour = "red" if f.is_error else "yellow"
        console.print(f"  [{colour}]{f.severity:7}[/] {f.code:22} ", end="", markup=True)
        console.print(f"{f.path}: {f.message}", markup=False)


register_risk_commands(app)
register_db_commands(app)
register_broker_commands(app)
register_pipeline_commands(app)
register_convert_commands(app)
register_user_commands(app)
register_harness_commands(app)
register_replay_commands(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
