"""The conformance gate at size: a 100,000-item stream recorded from one aedex and replayed,
with `aedex replay --expect`, into a fresh one (issue 16's must-show).

1. Instance A (`aedex run`: embedded broker, its own SQLite file) takes generated traffic
   (defects, risk scenarios, every format) over HTTP, each file with its sender's key.
2. Its inbox is recorded (`aedex record --http`) and its answers too (`aedex record
   --topic aed.responses`); the answers become a hand-written-format expectations file
   (item, decision, security decision, codes).
3. Instance B, fresh, gets the recording through `aedex replay --to http --expect FILE
   --junit FILE` at the recorded pace: it must exit 0, every item answered as A did
   (same ruleset, same order, and the re-timing keeps every interval).

Why paced: window rules count what was seen before an item was scored, and the gift
window of one sender spans the assess stage's partitions (keyed by addressee), so two
messages in flight at once may be scored in either order. A posts below the pipeline's
capacity and the replay keeps the recorded intervals, so each sees the same order.

Figures: items, messages, A's processing time, the replay's sending rate, the wait for
the last answer, the replay's own CPU (from the process's accounting) and its exit code.
`python -m benchmarks.replay_conformance [--items N]`; results in benchmarks/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from adapters.generator import GeneratedFile, GeneratorOptions, generate
from service.demo import ROUTES
from service.harness.expect import read_answers

RESULTS = Path(__file__).with_name("results")
AEDEX = str(Path(sys.executable).with_name("aedex"))


class Instance:
    """`aedex run` in a directory of its own: its database, its log, its broker."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.db = root / "aedex.db"
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ, "AEDEX_DATABASE_URL": f"sqlite+aiosqlite:///{self.db}",
            "AEDEX_PORT": str(port), "AEDEX_LOG_LEVEL": "WARNING",
        }  # fmt: skip
        self.env.pop("AEDEX_KAFKA_BOOTSTRAP", None)
        self.log = root / "aedex.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
                [AEDEX, "run"], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"aedex run exited; see {self.log}"
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"aedex run was not ready in 120 s; see {self.log}")

    @property
    def bootstrap(self) -> str:
        found = re.search(r"broker (\S+),", self.log.read_text(errors="replace"))
        assert found, f"no broker address in {self.log}"
        return found.group(1)

    def key(self, operator: str) -> str:
        made = self.aedex("keys", "create", "--operator", operator)
        return made.stdout.strip().splitlines()[-1]

    def aedex(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [AEDEX, *args], env=self.env, capture_output=True, text=True, check=check
        )

    def answered(self) -> int:
        with sqlite3.connect(self.db, timeout=30) as db:
            return int(db.execute("select count(*) from responses").fetchone()[0])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@contextmanager
def running(root: Path, port: int) -> Iterator[Instance]:
    instance = Instance(root, port)
    instance.start()
    try:
        yield instance
    finally:
        instance.stop()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def post_paced(
    url: str, keys: dict[str, str], files: list[GeneratedFile], items_per_s: float
) -> tuple[int, int]:
    """Every file as its sender posts it, one after another at `items_per_s`; (items
    accepted, files refused). Paced below the pipeline's capacity, each message is assessed
    before the next one comes, so the order the windows saw is the order recorded."""
    accepted = refused = 0
    started = time.monotonic()
    sent_items = 0
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:
        for file in files:
            due = started + sent_items / items_per_s
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            route, media = ROUTES[file.kind]
            operator = file.envelope.sender_operator or ""
            headers = {"Content-Type": media, "Authorization": f"Bearer {keys[operator]}"}
            while True:
                answer = await client.post(route, content=file.data, headers=headers)
                if answer.status_code != 429:
                    break
                await asyncio.sleep(float(answer.headers.get("Retry-After", "1")))
            if answer.status_code == 202:
                accepted += answer.json()["items"]
                sent_items += answer.json()["items"]
            else:
                refused += 1
    return accepted, refused


def wait_answered(instance: Instance, items: int, timeout_s: float) -> float:
    started = time.monotonic()
    while instance.answered() < items:
        if time.monotonic() - started > timeout_s:
            raise RuntimeError(f"{instance.answered()} of {items} answered after {timeout_s} s")
        time.sleep(1.0)
    return time.monotonic() - started


def altered_gate(
    root: Path, recording: Path, expect: Path, url: str, keys: Path, env: dict[str, str]
) -> tuple[str, subprocess.CompletedProcess[str]]:
    """The same gate with one released item expected HOLD: it must fail, naming the item.

    The recording goes to the same instance B again: its messages are refused there
    (MESSAGE_ID_REUSED: the re-timed bytes differ), and B's answers to them are judged."""
    lines = expect.read_text().splitlines()
    index = next(n for n, line in enumerate(lines) if '"decision": "RELEASE"' in line)
    entry = json.loads(lines[index])
    lines[index] = json.dumps({**entry, "decision": "HOLD"})
    altered = root / "altered.jsonl"
    altered.write_text("\n".join(lines) + "\n")
    gate = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
        [AEDEX, "replay", str(recording), "--to", "http", "--url", url, "--keys", str(keys),
         "--as-fast-as-possible", "--expect", str(altered),
         "--junit", str(root / "altered-junit.xml"), "--timeout", "60"],
        env={**env, "COLUMNS": "120"}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    report = gate.stdout[gate.stdout.find("✗") :]
    print("altered expectation:", report[:1500], flush=True)
    return str(entry["item_id"]), gate


def _junit_failed(path: Path, item_id: str) -> bool:
    from lxml import etree

    if not path.exists():
        return False
    case = etree.parse(str(path)).find(f".//testcase[@name='{item_id}']")
    return case is not None and case.find("failure") is not None


def main(argv: list[str] | None = None) -> dict[str, object]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--items", type=int, default=int(os.environ.get("AEDEX_BENCH_REPLAY_ITEMS", "100000"))
    )
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--items-per-s", type=float, default=250.0, help="instance A's traffic")
    parser.add_argument("--items-per-message", type=int, default=250)
    args = parser.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="aedex-replay-"))
    print(f"replay conformance: {args.items:,} items, work in {root}", flush=True)
    options = GeneratorOptions(
        items=args.items, seed=args.seed, base_time=datetime.now(UTC).replace(microsecond=0),
        scenarios=True, scenario_rate=0.05, defects=True, defect_rate=0.03,
        items_per_message=args.items_per_message, share_cn23_csv=0.0,
    )  # fmt: skip
    files = [f for f in generate(options) if f.kind in ROUTES and f.kind != "hostile"]
    operators = sorted({f.envelope.sender_operator or "" for f in files})
    recording, answers, expect, junit = (
        root / n for n in ("stream.aedexrec", "answers.aedexrec", "expect.jsonl", "junit.xml")
    )
    with running(root / "a", free_port()) as first:
        keys = {operator: first.key(operator) for operator in operators}
        started = time.monotonic()
        accepted, refused = asyncio.run(post_paced(first.url, keys, files, args.items_per_s))
        posted_s = time.monotonic() - started
        wait_answered(first, accepted, timeout_s=3600)
        first_s = time.monotonic() - started
        print(f"A: {accepted:,} items in {len(files):,} files ({refused} refused) answered "
              f"in {first_s:,.0f} s", flush=True)  # fmt: skip
        first.aedex("record", "--http", "--out", str(recording))
        first.aedex("record", "--topic", "aed.responses", "--bootstrap", first.bootstrap,
                    "--out", str(answers))  # fmt: skip
    expected = 0
    with expect.open("w") as out:
        for answer in read_answers(answers):
            out.write(json.dumps({"item_id": answer.item_id, "decision": answer.decision,
                                  "security": answer.security, "codes": list(answer.codes)}) + "\n")  # fmt: skip
            expected += 1
    with running(root / "b", free_port()) as fresh:
        keys_file = root / "b-keys.txt"
        keys_file.write_text("".join(f"{op}={fresh.key(op)}\n" for op in operators))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        replayed = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments
            [AEDEX, "replay", str(recording), "--to", "http", "--url", fresh.url,
             "--keys", str(keys_file), "--window", "16",
             "--expect", str(expect), "--junit", str(junit), "--timeout", "300"],
            env={**fresh.env, "COLUMNS": "120"}, capture_output=True, text=True, check=False,
        )  # fmt: skip
        replay_s = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(replayed.stdout[-4000:], flush=True)
        altered_item, gate = altered_gate(root, recording, expect, fresh.url, keys_file, fresh.env)
    if replayed.returncode != 0:
        print(replayed.stderr[-2000:], file=sys.stderr)
    figures: dict[str, object] = {
        "items": accepted, "files": len(files), "expectations": expected,
        "first_run_s": round(first_s, 1), "first_post_s": round(posted_s, 1),
        "replay_s": round(replay_s, 1),
        "replay_cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
        "replay_exit": replayed.returncode, "junit": str(junit),
        "altered_item": altered_item, "altered_exit": gate.returncode,
        "altered_named": f"✗ {altered_item}" in gate.stdout,
        "altered_junit_failure": _junit_failed(root / "altered-junit.xml", altered_item),
    }  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "replay_conformance.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    result = main()
    passed = result["replay_exit"] == 0 and result["altered_exit"] == 1
    sys.exit(0 if passed and result["altered_named"] and result["altered_junit_failure"] else 1)
