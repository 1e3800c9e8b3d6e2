"""Pure helpers of benchmarks/pipeline_e2e.py: phase selection, percentiles, target verdicts."""

from __future__ import annotations

import math

import pytest

from benchmarks.pipeline_e2e import PHASES, Percentiles, Target, percentile, selected_phases


def test_phases_default_to_all_and_keep_run_order() -> None:
    assert selected_phases(None) == PHASES
    assert selected_phases("") == PHASES
    assert selected_phases(" latency-500, kafka ") == ("kafka", "latency-500")
    assert selected_phases("soak,http") == ("http", "soak")


def test_an_unknown_phase_is_refused() -> None:
    with pytest.raises(SystemExit):
        selected_phases("kafka,nope")


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert math.isnan(percentile([], 0.5))
    summary = Percentiles.of(values)
    assert (summary.answered, summary.p95_ms, summary.max_ms) == (100, 95.0, 100.0)


def test_verdicts_say_met_missed_goal_and_not_run() -> None:
    def cpu(measured: float | None, valid: bool = True) -> Target:
        return Target("cpu", "CPU", measured, 600.0, 400.0, False, " µs", valid=valid)

    assert cpu(None).verdict == "not run" and cpu(None).met is None
    assert cpu(350.0).verdict == "met, goal met"
    assert cpu(500.0).verdict == "met, goal not yet" and cpu(500.0).met is True
    assert cpu(700.0).verdict == "MISSED" and cpu(700.0).met is False
    assert cpu(math.nan).verdict == "MISSED"
    assert cpu(350.0, valid=False).met is False
    rate = Target("rate", "rate", 3_500.0, 3_500.0, None, True, " items/s")
    assert rate.verdict == "met"
