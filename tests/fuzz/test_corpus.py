"""Every corpus file through its fuzz target once: what the fuzzer found once stays fixed.

Seeds and saved crashes run in-process. Inputs libFuzzer saved as hangs or
out-of-memory (timeout-*, oom-*, slow-unit-*) run in a child process with a time
and memory cap, so a regression fails this test instead of stalling the run or
swapping a shared machine.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.targets import TARGETS

CORPUS = Path(__file__).resolve().parent / "corpus"
ROOT = CORPUS.parents[2]
#: Saved by libFuzzer for hangs and memory blow-ups: replayed under a cap.
CAPPED = ("timeout-", "oom-", "slow-unit-")
CAP_SECONDS = 30
CAP_BYTES = 1024**3  # every seed runs in well under 600 MB of address space


CASES = [
    (folder.name, path)
    for folder in sorted(CORPUS.iterdir())
    if folder.is_dir()
    for path in sorted(folder.iterdir())
    if path.is_file() and not path.name.startswith(".")
]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("target", "path"), CASES, ids=[f"{target}/{path.name}" for target, path in CASES]
)
def test_corpus_input_does_not_crash_its_target(target: str, path: Path) -> None:
    """The target swallows only documented errors, so any exception here is a bug."""
    if path.name.startswith(CAPPED):
        _replay_capped(target, path)
    else:
        TARGETS[target](path.read_bytes())


def test_every_target_has_seeds_and_every_folder_a_target() -> None:
    """A misnamed folder is never fuzzed; a target without a valid seed starts blind."""
    folders = {folder.name for folder in CORPUS.iterdir() if folder.is_dir()}
    assert folders == set(TARGETS)
    for name in TARGETS:
        assert any((CORPUS / name).glob("seed-*")), f"{name} has no valid seed"


def _limit_memory() -> None:
    """In the child before exec: its address space is capped, not the test run's."""
    resource.setrlimit(resource.RLIMIT_AS, (CAP_BYTES, CAP_BYTES))


def _replay_capped(target: str, path: Path) -> None:
    """The input in `python -m tests.fuzz.replay`, killed after CAP_SECONDS."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tests.fuzz.replay", target, str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=CAP_SECONDS,
            preexec_fn=_limit_memory,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{target} still runs after {CAP_SECONDS} s on {path.name}")
    assert done.returncode == 0, done.stderr[-4000:]
