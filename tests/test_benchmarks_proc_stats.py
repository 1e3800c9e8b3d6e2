"""The pure helpers of benchmarks/proc_stats.py: /proc parsing and per-item arithmetic."""

from __future__ import annotations

import os

from benchmarks.proc_stats import (
    Snapshot,
    cpu_seconds,
    cpu_used,
    parse_machine_busy_ticks,
    parse_stat_ticks,
    parse_vmrss_bytes,
    per_item_us,
    rss_bytes,
    summarise,
)


def test_stat_ticks_count_fields_after_the_command_name() -> None:
    # A command name with spaces and a ')' must not shift the fields.
    rest = " ".join(str(n) for n in range(3, 53))
    stat = f"1234 (tansu (x) y) {rest}"
    # Fields 14 and 15 (utime, stime) hold 14 and 15 here.
    assert parse_stat_ticks(stat) == 14 + 15


def test_vmrss_in_bytes_and_none_without_the_line() -> None:
    assert parse_vmrss_bytes("Name:\tpython\nVmRSS:\t  2048 kB\nThreads:\t3\n") == 2048 * 1024
    assert parse_vmrss_bytes("Name:\tzombie\nState:\tZ (zombie)\n") is None


def test_machine_busy_leaves_out_idle_and_iowait() -> None:
    assert parse_machine_busy_ticks("cpu  1 2 3 1000 2000 4 5 0 0 0\ncpu0 1 2 3 4 5 6 7\n") == 15


def test_cpu_used_per_item_skips_processes_missing_from_a_snapshot() -> None:
    start = Snapshot(0.0, {"validate": 1.0, "api": None, "broker": 2.0})
    end = Snapshot(1.0, {"validate": 1.5, "api": 3.0})
    used = cpu_used(start, end)
    assert used == {"validate": 0.5}
    assert per_item_us(used, 1000) == {"validate": 500.0}
    assert per_item_us(used, 0) == {}


def test_rss_summary_is_first_last_and_largest_per_process() -> None:
    samples = [(0.0, {"a": 5}), (1.0, {"a": 9, "b": 1}), (2.0, {"a": 7, "b": 2})]
    summary = summarise(samples)
    assert (summary["a"].start, summary["a"].end, summary["a"].max) == (5, 7, 9)
    assert (summary["b"].start, summary["b"].end, summary["b"].max) == (1, 2, 2)


def test_this_process_reads_and_a_gone_one_is_none() -> None:
    assert (cpu_seconds(os.getpid()) or 0.0) > 0.0
    assert (rss_bytes(os.getpid()) or 0) > 0
    assert cpu_seconds(2**22 + 1) is None  # above pid_max's largest default
    assert rss_bytes(2**22 + 1) is None
