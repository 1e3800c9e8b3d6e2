"""CPU time and resident memory of running processes, from their own /proc accounting.

The end-to-end benchmark runs every stage, the API and the broker as separate
OS processes on a shared 2-core machine; wall-clock throughput alone cannot say
which of them costs what. Each process's kernel accounting can: utime + stime
in /proc/<pid>/stat cover all of the process's threads (Tansu's runtime
threads, a thread pool), so a difference of two snapshots over a phase is the
CPU that process spent on it, whatever else the machine was doing.

Processes that have exited (or never started) read as None rather than raising:
a snapshot of several named pids should not fail because one of them is gone,
and the report shows the gap.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: utime and stime are fields 14 and 15 of /proc/<pid>/stat (1-based, proc(5)).
_UTIME_FIELD = 14
#: Fields after the `(comm)` field start at field 3.
_FIRST_FIELD_AFTER_COMM = 3


def parse_stat_ticks(stat: str) -> int:
    """utime + stime, in clock ticks, of one /proc/<pid>/stat line.

    The command name (field 2) is in parentheses and may itself hold spaces or
    parentheses, so the fields are counted from the last ')'.
    """
    rest = stat[stat.rindex(")") + 1 :].split()
    index = _UTIME_FIELD - _FIRST_FIELD_AFTER_COMM
    return int(rest[index]) + int(rest[index + 1])


def parse_vmrss_bytes(status: str) -> int | None:
    """VmRSS of one /proc/<pid>/status text, in bytes; None for a zombie (no VmRSS line)."""
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            value, unit = line.split()[1:3]
            assert unit == "kB", unit
            return int(value) * 1024
    return None


def cpu_seconds(pid: int) -> float | None:
    """CPU seconds (user + system, all threads) the process has used; None if it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return parse_stat_ticks(stat) / CLOCK_TICKS


def rss_bytes(pid: int) -> int | None:
    """Resident set size of the process now; None if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return parse_vmrss_bytes(status)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """CPU seconds of several named processes at one moment."""

    at: float
    cpu: dict[str, float | None]

    @classmethod
    def take(cls, pids: Mapping[str, int]) -> Snapshot:
        return cls(time.perf_counter(), {name: cpu_seconds(pid) for name, pid in pids.items()})


def cpu_used(start: Snapshot, end: Snapshot) -> dict[str, float]:
    """CPU seconds each process used between two snapshots, for those present in both."""
    used: dict[str, float] = {}
    for name, before in start.cpu.items():
        after = end.cpu.get(name)
        if before is not None and after is not None:
            used[name] = after - before
    return used


def per_item_us(used: Mapping[str, float], items: int) -> dict[str, float]:
    """CPU seconds per process turned into CPU-µs per item."""
    return {name: seconds * 1e6 / items for name, seconds in used.items()} if items else {}


@dataclass(frozen=True, slots=True)
class RssSummary:
    start: int
    end: int
    max: int


@dataclass
class RssSampler:
    """Samples VmRSS of named processes every `interval_s` seconds in a thread.

    A thread rather than a task: the benchmark's event loop is busy posting or
    polling during a phase, and a sample should not wait for it.
    """

    pids: Mapping[str, int]
    interval_s: float = 2.0
    #: (seconds since start, {name: RSS bytes}); the first at start, the last at stop.
    samples: list[tuple[float, dict[str, int]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _started: float = 0.0

    def start(self) -> RssSampler:
        self._started = time.perf_counter()
        self._sample()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> dict[str, RssSummary]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self._sample()
        return summarise(self.samples)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self._sample()

    def _sample(self) -> None:
        now = {name: rss_bytes(pid) for name, pid in self.pids.items()}
        self.samples.append(
            (time.perf_counter() - self._started, {n: v for n, v in now.items() if v is not None})
        )


def summarise(samples: list[tuple[float, dict[str, int]]]) -> dict[str, RssSummary]:
    """First, last and largest RSS per process over the samples that saw it."""
    series: dict[str, list[int]] = {}
    for _, values in samples:
        for name, value in values.items():
            series.setdefault(name, []).append(value)
    return {name: RssSummary(v[0], v[-1], max(v)) for name, v in series.items()}


def parse_machine_busy_ticks(stat: str) -> int:
    """Busy ticks of all cores (user, nice, system, irq, softirq) from /proc/stat's first line."""
    fields = stat.splitlines()[0].split()[1:8]
    user, nice, system, _idle, _iowait, irq, softirq = (int(f) for f in fields)
    return user + nice + system + irq + softirq


def machine_busy_s() -> float | None:
    """CPU seconds all cores have been busy since boot; None without /proc/stat."""
    try:
        stat = Path("/proc/stat").read_text()
    except OSError:
        return None
    return parse_machine_busy_ticks(stat) / CLOCK_TICKS
