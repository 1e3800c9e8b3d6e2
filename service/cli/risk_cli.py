"""`aedex rules check|test`, `aedex assess` and `aedex evaluate`: the analyst's tools."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import orjson
import typer
from rich.console import Console
from rich.table import Table

from risk import (
    Engine,
    InMemoryState,
    Ruleset,
    RulesetError,
    default_ruleset,
    load_ruleset,
    run_golden_tests,
)
from service.cli.governance_cli import register as register_governance

rules_app = typer.Typer(
    help="Check and test ruleset files; upload, approve, activate, backtest versions.",
    no_args_is_help=True,
)
EXIT_OK, EXIT_FAILED, EXIT_UNREADABLE = 0, 1, 2

RulesOption = Annotated[
    Path | None,
    typer.Option("--rules", help="ruleset YAML (default: the packaged default ruleset)"),
]


def _console(*, stderr: bool = False) -> Console:
    return Console(highlight=False, soft_wrap=True, width=200, stderr=stderr)


def _load(path: Path | None, report: Console | None = None) -> Ruleset:
    """The ruleset, or exit. An unreadable file is said on stderr; the ruleset's problems
    go to `report` when they are what the command reports (`rules check`), else to stderr,
    so that `assess --json` output stays JSON."""
    errors = _console(stderr=True)
    try:
        return default_ruleset() if path is None else load_ruleset(path)
    except OSError as exc:
        errors.print(f"{path}: cannot read: {exc.strerror or exc}", markup=False)
        raise typer.Exit(EXIT_UNREADABLE) from None
    except RulesetError as exc:
        out = report or errors
        for problem in exc.problems:
            out.print(f"{path or 'default ruleset'}: {problem}", markup=False)
        out.print(f"{len(exc.problems)} problem(s); the ruleset was not loaded")
        raise typer.Exit(EXIT_FAILED) from None


@rules_app.command("check")
def check(file: Annotated[Path, typer.Argument(help="ruleset YAML")]) -> None:
    """Load and compile a ruleset; list every problem with rule id, line and column."""
    console = _console()
    ruleset = _load(file, console)
    active = len(ruleset.active)
    console.print(
        f"{file}: ruleset {ruleset.name} {ruleset.version}: {len(ruleset.rules)} rules "
        f"({active} enabled), {len(ruleset.spec.lists)} lists, bands "
        + ", ".join(f"{action} >= {threshold}" for threshold, action in ruleset.bands)
    )


@rules_app.command("test")
def test(
    file: Annotated[Path, typer.Argument(help="ruleset YAML")],
    rule: Annotated[list[str] | None, typer.Option(help="only these rule ids")] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="show passing cases too")
    ] = False,
) -> None:
    """Run the golden tests of every rule; exit 1 if any fails."""
    console = _console()
    ruleset = _load(file, console)
    results = run_golden_tests(ruleset, rule_ids=set(rule) if rule else None)
    failed = [r for r in results if not r.passed]
    for result in results:
        if verbose or not result.passed:
            mark = "PASS" if result.passed else "FAIL"
            console.print(f"{mark} {result.rule} {result.case}: {result.detail}")
    rules = len({r.rule for r in results})
    console.print(
        f"{len(results) - len(failed)} passed, {len(failed)} failed ({len(results)} cases, {rules} rules)"
    )
    if failed:
        raise typer.Exit(EXIT_FAILED)


@rules_app.command("reference")
def reference(
    out: Annotated[Path, typer.Option(help="CSV to write")] = Path(
        "risk/data/reference_values.csv"
    ),
    items: Annotated[int, typer.Option(help="clean generated items to learn from")] = 40_000,
    seed: Annotated[int, typer.Option(help="generator seed")] = 2026,
) -> None:
    """Rebuild the cold-start reference values from clean generated ITMATT traffic."""
    from adapters.generator import generate, itmatt_only
    from messages.check import check_message
    from risk.reference import build_reference, reference_csv

    options = itmatt_only(items, seed)
    accepted = [
        check.item
        for generated in generate(options)
        for check in check_message(generated.data).items
        if check.item is not None
    ]
    table = build_reference(accepted)
    note = (
        f"Medians and low deciles per HS subheading and heading of {len(accepted):,} accepted "
        f"synthetic items (aedex rules reference --items {items} --seed {seed}): a cold start "
        "for offline use; production rebuilds this from 30 days of accepted traffic."
    )
    out.write_text(reference_csv(table, note=note), encoding="utf-8")
    _console().print(f"wrote {len(table)} reference rows to {out}")


def assess(
    files: Annotated[list[Path], typer.Argument(help="ITMATT, CUSITM or manifest files, in order")],
    rules: RulesOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="one JSON object per item")] = False,
    received_at: Annotated[
        str | None,
        typer.Option(
            metavar="TIME",
            help="judge every file as received at TIME (ISO 8601 with offset), as the API "
            "stamps a message it takes; default: each message's own PreparedAt (a manifest's "
            "departure). LATE_DATA: received after ExpectedArrival or > 72 h after posting",
        ),
    ] = None,
) -> None:
    """Validate and assess items file by file; windows carry over from file to file."""
    from service.cli.assessing import assess_file
    from service.cli.event_time import parse_time

    received = None if received_at is None else parse_time(received_at, "--received-at")
    console = _console()
    engine = Engine(_load(rules))
    state = InMemoryState(learn=False)  # as the assess stage scores (service.stages.windows)
    unreadable = False
    for path in files:
        try:
            report, items = assess_file(path, engine, state, received_at=received)
        except OSError as exc:
            unreadable = True
            sys.stderr.write(f"{path}: cannot read: {exc.strerror or exc}\n")
            continue
        if report.check is None:
            sys.stderr.write(
                f"{path}: not assessable ({report.type}); run 'aedex validate' for details\n"
            )
            continue
        if report.refused:
            codes = ", ".join(sorted({f.code.value for f in report.findings if f.is_error}))
            sys.stderr.write(f"{path}: REFUSED ({codes})\n")
        for assessed in items:
            if json_output:
                sys.stdout.write(orjson.dumps(assessed.as_dict()).decode() + "\n")
                continue
            out = assessed.as_dict()
            if assessed.assessment is None:
                console.print(f"{out['item_id']}  REJECTED  {', '.join(out['findings'])}")
                continue
            security = f" {out['security_action']}" if out["security_action"] else ""
            console.print(
                f"{out['item_id']}  {out['score']:>3}  {out['action']}{security}", markup=False
            )
            for hit in assessed.assessment.hits:
                weight = hit.action if hit.axis == "SECURITY" else f"+{hit.score}"
                console.print(f"    {hit.rule} ({weight}): {hit.reason}", markup=False)
    if unreadable:
        raise typer.Exit(EXIT_UNREADABLE)


def evaluate(
    directory: Annotated[
        Path, typer.Argument(help="output directory of 'aedex generate --scenarios'")
    ],
    rules: RulesOption = None,
    json_output: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    record_outcomes: Annotated[
        bool,
        typer.Option(
            "--record-outcomes",
            help="decide the open review tasks of this traffic from its labels, through the "
            "API's decision route (--url, --token): the outcomes rule statistics measure",
        ),
    ] = False,
    url: Annotated[str, typer.Option("--url", envvar="AEDEX_URL", help="aedex API")] = (
        "http://127.0.0.1:8000"
    ),
    token: Annotated[
        str, typer.Option("--token", envvar="AEDEX_TOKEN", help="an officer's token")
    ] = "",
) -> None:
    """Precision and recall per scenario class, and false positives on clean items; or, with
    --record-outcomes, decide the traffic's review tasks as a perfect officer would."""
    from service.cli.evaluation import GROUPS, evaluate_directory

    console = _console()
    if not (directory / "labels.jsonl").is_file() or not (directory / "files.jsonl").is_file():
        _console(stderr=True).print(
            f"{directory}: no labels.jsonl/files.jsonl; generate with 'aedex generate --scenarios'",
            markup=False,
        )
        raise typer.Exit(EXIT_UNREADABLE)
    if record_outcomes:
        from service.cli.outcomes import record_outcomes as record

        done = record(directory, url, token)
        console.print(
            f"decided {done.decided} review tasks: {done.infringements} infringements, "
            f"{done.cleared} cleared; {done.unlabelled} tasks of other traffic left open"
        )
        return
    ruleset = _load(rules)
    result = evaluate_directory(directory, ruleset)
    if json_output:
        sys.stdout.write(orjson.dumps(result.as_dict()).decode() + "\n")
        return
    table = Table(title=f"{ruleset.name} {ruleset.version} on {directory}")
    table.add_column("class")
    for group in GROUPS:
        for column in ("labelled", "precision", "recall"):
            table.add_column(f"{group}\n{column}", justify="right")
    for name in sorted(result.classes):
        row = [name]
        for group in GROUPS:
            score = result.groups.get(group, {}).get(name)
            if score is None or (not score.labelled and not score.detected):
                row += ["-", "-", "-"]
                continue
            if not score.labelled:
                # Only items labelled with another class, also detected as this one (a
                # replica declared just under 150 EUR is threshold_value too): no precision
                # to speak of; the co-detections are listed below the tables.
                row += ["0", f"{score.detected} co-detected", "-"]
                continue
            row += [
                str(score.labelled),
                "-" if score.precision is None else f"{score.precision:.3f}",
                "-" if score.recall is None else f"{score.recall:.3f}",
            ]
        table.add_row(*row)
    console.print(table)
    families = Table(title="recall per variant family")
    for column in ("class / family", "labelled", "detected", "recall"):
        families.add_column(column, justify="left" if column.startswith("class") else "right")
    for name, score in sorted(result.variants.items()):
        recall = "-" if score.recall is None else f"{score.recall:.3f}"
        families.add_row(name, str(score.labelled), str(score.true_positives), recall)
    console.print(families)
    if result.traps:
        traps = Table(title="false-positive traps (clean items)")
        for column in ("trap", "items", "flagged"):
            traps.add_column(column, justify="left" if column == "trap" else "right")
        for name, (items, flagged) in sorted(result.traps.items()):
            traps.add_row(name, str(items), str(flagged))
        console.print(traps)
    console.print(
        f"{result.items} items ({result.rejected} rejected by validation) in {result.seconds:.1f} s; "
        f"clean items flagged: {result.clean_flagged} of {result.clean_items} "
        f"= {result.false_positive_rate:.2%}"
    )
    misses = result.confusion.most_common(8)
    if misses:
        console.print(
            "most common misses and cross-class detections (label -> detected as; an item"
            " detected as its own class and another is a co-detection):"
        )
        for (label, detected), count in misses:
            console.print(f"  {count:>5}  {label} -> {', '.join(detected) or 'not flagged'}")


def register(app: typer.Typer) -> None:
    register_governance(rules_app)
    app.add_typer(rules_app, name="rules")
    app.command()(assess)
    app.command()(evaluate)
