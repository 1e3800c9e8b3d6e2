"""`aedex rules upload|list|approve|activate|shadow|stats|backtest`: governance from a shell.

Changes go through the API with the caller's own staff token (AEDEX_TOKEN),
so four eyes hold on the command line too: the API, not the shell, knows who
is asking. `backtest` reads the database itself (it is the analyst's tool,
with a progress bar) and records its result against the stored version the
file is, if it is one: that is the backtest an approver sees.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from risk import RulesetError, compile_ruleset
from service.cli.failures import CliFailure
from service.db.engine import create_engine, create_sessionmaker
from service.db.models import Backtest, StoredRuleset
from service.governance.backtest import compare, period
from service.governance.versions import digest, live
from service.settings import Settings

Url = Annotated[str, typer.Option("--url", envvar="AEDEX_URL", help="aedex API base URL")]
Token = Annotated[
    str,
    typer.Option(
        "--token", envvar="AEDEX_TOKEN", help="your staff token (aedex users token NAME)",
        show_default=False,
    ),
]  # fmt: skip
DEFAULT_URL = "http://127.0.0.1:8000"


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True, width=200)


class Api:
    """The officers' API with one staff token; a refusal ends the command in one line."""

    def __init__(self, url: str, token: str) -> None:
        if not token:
            raise CliFailure("a staff token is needed: --token or AEDEX_TOKEN")
        self.client = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        try:
            answer = self.client.request(method, path, json=body, params=params or None)
        except httpx.HTTPError as error:
            raise CliFailure(f"{self.client.base_url} unreachable: {error}") from None
        if answer.status_code >= 400:
            raise CliFailure(_refusal(answer))
        return answer.json()

    def version_id(self, name: str, version: str) -> str:
        for row in self.call("GET", "/v1/rulesets"):
            if (row["name"], row["version"]) == (name, version):
                return str(row["id"])
        raise CliFailure(f"no stored ruleset {name} {version} (aedex rules list)")


def _refusal(answer: httpx.Response) -> str:
    try:
        body = answer.json()
    except ValueError:
        return f"HTTP {answer.status_code}"
    lines = [f"{body.get('error', answer.status_code)}: {body.get('detail', '')}"]
    lines += [f"  {f.get('message')}" for f in body.get("findings") or []]
    return "\n".join(lines)


def upload(
    file: Annotated[Path, typer.Argument(help="ruleset YAML")],
    reason: Annotated[str, typer.Option(help="why the change (the approver reads it)")],
    url: Url = DEFAULT_URL,
    token: Token = "",
) -> None:
    """Store a ruleset as a draft (supervisor); it must load and pass its golden tests."""
    text = _read(file)
    row = Api(url, token).call("POST", "/v1/rulesets", {"yaml": text, "reason": reason})
    _console().print(
        f"stored {row['name']} {row['version']} as {row['status']} ({row['id']}); "
        f"golden tests: {row['golden']['passed']} passed. Next: a backtest "
        f"(aedex rules backtest {file}), then another supervisor approves it."
    )


def list_versions(url: Url = DEFAULT_URL, token: Token = "") -> None:
    """Every stored version: status, who wrote, approved and activated it."""
    table = Table()
    for column in ("name", "version", "status", "author", "approved by", "activated", "backtests",
                   "reason"):  # fmt: skip
        table.add_column(column)
    for row in Api(url, token).call("GET", "/v1/rulesets"):
        table.add_row(
            row["name"], row["version"], row["status"], row["author"] or "",
            row["approved_by"] or "", (row["activated_at"] or "")[:19],
            str(row["backtests"]), (row["reason"] or "")[:60],
        )  # fmt: skip
    _console().print(table)


def approve(
    name: str,
    version: str,
    note: Annotated[str, typer.Option(help="what you checked")] = "",
    url: Url = DEFAULT_URL,
    token: Token = "",
) -> None:
    """Approve a draft someone else wrote, after its backtest (supervisor)."""
    api = Api(url, token)
    row = api.call("POST", f"/v1/rulesets/{api.version_id(name, version)}/approve", {"note": note})
    _console().print(f"{name} {version} approved by {row['approved_by']}")


def activate(
    name: str,
    version: str,
    reason: Annotated[str, typer.Option(help="why now")],
    url: Url = DEFAULT_URL,
    token: Token = "",
) -> None:
    """Make an approved version live (or an earlier one again: a rollback)."""
    api = Api(url, token)
    ruleset_id = api.version_id(name, version)
    row = api.call("POST", f"/v1/rulesets/{ruleset_id}/activate", {"reason": reason})
    _console().print(
        f"{name} {version} is {row['status']}; running assess workers switch at once "
        "(`/metrics`: aedex_worker_ruleset)"
    )


def shadow(
    name: Annotated[str, typer.Argument()] = "",
    version: Annotated[str, typer.Argument()] = "",
    stop: Annotated[bool, typer.Option("--stop", help="stop the shadow run")] = False,
    url: Url = DEFAULT_URL,
    token: Token = "",
) -> None:
    """Run a version in shadow beside the active one (its results reach nobody), or --stop."""
    api = Api(url, token)
    if stop:
        row = api.call("DELETE", "/v1/rulesets/shadow")
        _console().print(f"{row['name']} {row['version']} no longer runs in shadow")
        return
    if not (name and version):
        raise typer.BadParameter("name and version, or --stop")
    row = api.call("POST", f"/v1/rulesets/{api.version_id(name, version)}/shadow")
    _console().print(f"{name} {version} runs in shadow")


def stats(
    since: Annotated[float, typer.Option(help="days back")] = 30,
    json_output: Annotated[bool, typer.Option("--json", help="print the JSON")] = False,
    url: Url = DEFAULT_URL,
    token: Token = "",
) -> None:
    """Per rule and version: hits, precision, lift, revenue corrected, seizures."""
    found = Api(url, token).call("GET", "/v1/rules/stats", since_days=since)
    if json_output:
        typer.echo(orjson.dumps(found).decode())
        return
    print_stats(_console(), found)


def print_stats(console: Console, found: dict[str, Any]) -> None:
    base = found["base_rate"]
    table = Table(
        title=(
            f"rule performance, {found['since'][:10]} to {found['until'][:10]}; base rate "
            f"{base['confirmed']}/{base['reviewed']} reviewed items confirmed"
        )
    )
    for column in ("rule", "version", "hits", "hit rate", "reviewed", "confirmed", "cleared",
                   "precision", "lift", "revenue EUR", "seizures"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("rule", "version") else "right")
    for r in found["rules"]:
        table.add_row(
            r["rule"], r["version"], str(r["hits"]), _num(r["hit_rate"]), str(r["reviewed"]),
            str(r["confirmed"]), str(r["cleared"]), _num(r["precision"]), _num(r["lift"], 2),
            r["revenue_corrected_eur"], str(r["seizures"]),
        )  # fmt: skip
    console.print(table)


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def backtest(
    file: Annotated[Path, typer.Argument(help="candidate ruleset YAML")],
    since: Annotated[float, typer.Option(help="stored items of this many days")] = 30,
    json_output: Annotated[bool, typer.Option("--json", help="print the JSON result")] = False,
) -> None:
    """Run stored items of the period through the candidate and the active ruleset and
    compare them with officers' outcomes; recorded if the file is a stored version."""
    text = _read(file)
    try:
        candidate = compile_ruleset(text)
    except RulesetError as error:
        raise CliFailure(f"{file}: " + "; ".join(str(p) for p in error.problems)) from None
    result, recorded = asyncio.run(_backtest(text, candidate, since, show=not json_output))
    if json_output:
        typer.echo(orjson.dumps(result).decode())
        return
    print_backtest(_console(), result)
    _console().print(
        f"recorded as backtest {recorded} of the stored version"
        if recorded
        else "not recorded: upload the file first (aedex rules upload) to put it on record"
    )


async def _backtest(
    text: str, candidate: Any, since_days: float, *, show: bool
) -> tuple[dict[str, Any], uuid.UUID | None]:
    settings = Settings()
    engine = create_engine(settings.database_url)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions() as session, session.begin():
            active, _ = await live(session)
            stored = await session.scalar(
                select(StoredRuleset).where(
                    StoredRuleset.name == candidate.name,
                    StoredRuleset.version == candidate.version,
                )
            )
            baseline_text = active.text
        baseline = await asyncio.to_thread(compile_ruleset, baseline_text)
        start, end = period(since_days)
        with Progress(
            TextColumn("backtest"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
            disable=not show,
        ) as bar:  # fmt: skip
            task = bar.add_task("items", total=None)

            def progress(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = await compare(sessions, candidate, baseline, start, end, progress)
        if stored is None or stored.sha256 != digest(text):
            return result, None
        async with sessions() as session, session.begin():
            job = Backtest(
                ruleset_id=stored.id, candidate=f"{stored.name} {stored.version}",
                baseline=f"{baseline.name} {baseline.version}", since=start, until=end,
                status="DONE", items_total=result["candidate"]["items"],
                items_done=result["candidate"]["items"], result=result, requested_by="cli",
                finished_at=datetime.now(UTC),
            )  # fmt: skip
            session.add(job)
            await session.flush()
            return result, job.id
    finally:
        await engine.dispose()


def print_backtest(console: Console, result: dict[str, Any]) -> None:
    new, old = result["candidate"], result["baseline"]
    table = Table(
        title=f"backtest {result['since'][:10]} to {result['until'][:10]}: "
        f"{new['items']} items, {result['infringements_on_record']} infringements on record"
    )
    table.add_column("")
    table.add_column(old["ruleset"] + " (active)", justify="right")
    table.add_column(new["ruleset"] + " (candidate)", justify="right")
    for label, key in (("flagged", "flagged"), ("hit rate", "hit_rate"), ("reviewed", "reviewed"),
                       ("confirmed", "confirmed"), ("precision", "precision"),
                       ("recall", "recall"), ("revenue at stake EUR", "revenue_at_stake_eur"),
                       ("seizures", "seizures")):  # fmt: skip
        table.add_row(label, _cell(old[key]), _cell(new[key]))
    for band in sorted(set(old["queue"]) | set(new["queue"])):
        table.add_row(
            f"queue {band}", str(old["queue"].get(band, 0)), str(new["queue"].get(band, 0))
        )
    console.print(table)
    listed = " (the first 20 below)" if result["changed"] > 20 else ""
    console.print(f"{result['changed']} items would change action{listed}")
    for change in result["changed_items"][:20]:
        reasons = "; ".join(change["candidate_reasons"] or change["baseline_reasons"])[:150]
        console.print(
            f"  {change['item_id']}: {change['baseline']} -> {change['candidate']} "
            f"({change['outcome'] or 'not reviewed'}) {reasons}",
            markup=False,
        )


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return "-" if value is None else str(value)


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except OSError as error:
        raise CliFailure(f"{file}: cannot read: {error.strerror or error}") from None


def register(rules_app: typer.Typer) -> None:
    rules_app.command("upload")(upload)
    rules_app.command("list")(list_versions)
    rules_app.command("approve")(approve)
    rules_app.command("activate")(activate)
    rules_app.command("shadow")(shadow)
    rules_app.command("stats")(stats)
    rules_app.command("backtest")(backtest)
