"""README's governance demonstration, command for command (issue 17).

`aedex run` on a database and port of its own; labelled traffic through the
API (`aedex ingest DIR --keys`); officers' outcomes from the labels (`aedex
evaluate --record-outcomes`, through the decision route); a changed ruleset
uploaded by one supervisor, backtested, approved and activated by another;
a second wave of traffic scored by it; per-rule performance before and after
(`aedex rules stats`). The table is printed, as README shows it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.demo import ROUTES
from service.governance.versions import packaged_text

AEDEX = [str(Path(sys.executable).with_name("aedex"))]
ITEMS = 1200


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Shell:
    """Runs `aedex` commands as README writes them, against one running system."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.url = f"http://127.0.0.1:{port}"
        self.db = root / "aedex.db"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("AEDEX_")},
            "AEDEX_DATABASE_URL": f"sqlite+aiosqlite:///{self.db}",
            "AEDEX_HOST": "127.0.0.1",
            "AEDEX_PORT": str(port),
            "AEDEX_URL": self.url,
        }

    def aedex(self, *args: str, token: str | None = None, ok: tuple[int, ...] = (0,)) -> str:
        env = {**self.env, **({"AEDEX_TOKEN": token} if token else {})}
        done = subprocess.run(
            [*AEDEX, *args], env=env, cwd=self.root, capture_output=True, text=True, timeout=600
        )
        assert done.returncode in ok, (
            args,
            done.returncode,
            done.stdout[-2000:],
            done.stderr[-2000:],
        )
        return done.stdout

    def last_line(self, *args: str) -> str:
        return self.aedex(*args).strip().splitlines()[-1]

    def scalar(self, sql: str) -> int:
        with sqlite3.connect(self.db) as db:
            return int(db.execute(sql).fetchone()[0])

    def wait(self, sql: str, target: int, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.scalar(sql) >= target:
                return
            time.sleep(1)
        raise AssertionError(f"{sql}: {self.scalar(sql)} < {target} after {timeout} s")


@pytest.fixture
def shell(tmp_path: Path) -> Iterator[Shell]:
    shell = Shell(tmp_path, _free_port())
    log = (tmp_path / "aedex-run.log").open("w")
    process = subprocess.Popen(
        [*AEDEX, "run"], env=shell.env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{shell.url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp_path / "aedex-run.log").read_text()[-3000:]
            time.sleep(0.5)
        else:
            raise AssertionError(
                "aedex run not ready: " + (tmp_path / "aedex-run.log").read_text()[-3000:]
            )
        yield shell
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


def _wave(shell: Shell, name: str, seed: int, keys: Path) -> int:
    out = shell.root / name
    shell.aedex("generate", "--items", str(ITEMS), "--seed", str(seed), "--scenarios",
                "--scenario-rate", "0.15", "--out", str(out))  # fmt: skip
    listed = [json.loads(line) for line in (out / "files.jsonl").read_text().splitlines()]
    posted = [entry for entry in listed if entry["kind"] in ROUTES]
    known = json.loads(keys.read_text()) if keys.exists() else {}
    for operator in sorted({entry["sender_operator"] for entry in posted} - set(known)):
        known[operator] = shell.last_line("keys", "create", "--operator", operator)
    keys.write_text(json.dumps(known))
    before = shell.scalar("select count(*) from items")
    shell.aedex("ingest", str(out), "--keys", str(keys), "--quiet")
    items = sum(int(entry["items"]) for entry in posted)
    shell.wait("select count(*) from items", before + items)
    # Every item answered: a CUSRSP row each (the respond stage's or a rejection's).
    shell.wait("select count(distinct item_row_id) from responses", before + items)
    return items


def _changed_ruleset(path: Path) -> None:
    """The analyst's change: HS_DESCRIPTION_MISMATCH from DOCUMENTS_REQUIRED to INSPECT."""
    text = re.sub(r'(?m)^version: ".*"$', 'version: "2026.12.50"', packaged_text(), count=1)
    start = text.index("  - id: HS_DESCRIPTION_MISMATCH")
    head, rest = text[:start], text[start:]
    rest = rest.replace("    score: 35\n", "    score: 60\n", 1)
    path.write_text(head + rest, encoding="utf-8")


def test_the_readme_governance_demonstration(shell: Shell) -> None:
    for name, role in (("ann", "supervisor"), ("ben", "supervisor"), ("olga", "officer")):
        shell.aedex("users", "create", name, "--role", role)
    tokens = {name: shell.last_line("users", "token", name) for name in ("ann", "ben", "olga")}
    keys = shell.root / "keys.json"

    _wave(shell, "wave1", 7, keys)
    recorded = shell.aedex("evaluate", "wave1", "--record-outcomes", token=tokens["olga"])
    assert re.search(r"decided \d+ review tasks: \d+ infringements", recorded), recorded

    changed = shell.root / "changed.yaml"
    _changed_ruleset(changed)
    shell.aedex("rules", "upload", str(changed), "--reason", "HS mismatches confirmed: inspect them",
                token=tokens["ann"])  # fmt: skip
    report = shell.aedex("rules", "backtest", str(changed), "--since", "1")
    assert "recorded as backtest" in report and "would change action" in report, report
    refused = shell.aedex("rules", "approve", "default", "2026.12.50", token=tokens["ann"], ok=(1,))
    shell.aedex("rules", "approve", "default", "2026.12.50", "--note", "backtest read",
                token=tokens["ben"])  # fmt: skip
    shell.aedex("rules", "activate", "default", "2026.12.50", "--reason", "approved change",
                token=tokens["ben"])  # fmt: skip
    del refused
    shell.wait("select count(*) from stage_heartbeats where ruleset = 'default 2026.12.50'", 1, 60)

    _wave(shell, "wave2", 8, keys)
    shell.aedex("evaluate", "wave2", "--record-outcomes", token=tokens["olga"])
    stats = json.loads(
        shell.aedex("rules", "stats", "--since", "1", "--json", token=tokens["olga"])
    )
    versions = {r["version"] for r in stats["rules"]}
    assert {"2026.12.2", "2026.12.50"} <= versions, versions
    by = {(r["rule"], r["version"]): r for r in stats["rules"]}
    before, after = (
        by[("HS_DESCRIPTION_MISMATCH", "2026.12.2")],
        by[("HS_DESCRIPTION_MISMATCH", "2026.12.50")],
    )
    assert before["hits"] > 0 and after["hits"] > 0
    assert before["reviewed"] > 0 and after["reviewed"] > 0
    bands = {(b["version"], b["band"]): b["items"] for b in stats["bands"]}
    assert bands.get(("2026.12.50", "INSPECT"), 0) > 0
    # The table README shows: per rule, before and after.
    print(
        "\n| rule | 2026.12.2 hits | reviewed | precision | 2026.12.50 hits | reviewed | precision |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for rule in sorted({r for r, _ in by}):
        old, new = by.get((rule, "2026.12.2")), by.get((rule, "2026.12.50"))
        cells = [
            f"{x['hits']} | {x['reviewed']} | {x['precision'] if x['precision'] is not None else '-'}"
            if x
            else "- | - | -"
            for x in (old, new)
        ]
        print(f"| {rule} | {cells[0]} | {cells[1]} |")
    audit = shell.scalar(
        "select count(*) from audit_log where action in ('ruleset.upload', 'ruleset.approve', "
        "'ruleset.activate')"
    )
    assert audit == 3
