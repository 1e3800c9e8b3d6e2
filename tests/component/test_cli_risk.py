"""`aedex rules`, `aedex assess` and `aedex evaluate` through the installed console script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.generator import GeneratorOptions, write_traffic

AEDEX = shutil.which("aedex") or str(Path(sys.executable).with_name("aedex"))
DEFAULT_RULES = Path(__file__).resolve().parents[2] / "risk" / "rules" / "default.yaml"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AEDEX, *args], capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scenarios")
    write_traffic(out, GeneratorOptions(items=4000, seed=5, scenarios=True, scenario_rate=0.25))
    return out


def test_rules_test_passes_on_the_default_ruleset() -> None:
    result = run("rules", "test", str(DEFAULT_RULES))
    assert result.returncode == 0, result.stdout
    assert " 0 failed" in result.stdout


def test_rules_check_names_rule_line_and_column(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        'ruleset: t\nversion: "1"\nbands: {DOCUMENTS_REQUIRED: 30}\nrules:\n'
        "  - id: ESCAPE\n    title: t\n    score: 10\n    reason: r\n"
        "    when: item.__class__ is None\n"
        "    tests: [{given: {}, expect: hit}, {given: {}, expect: miss}]\n"
    )
    result = run("rules", "check", str(broken))
    assert result.returncode == 1
    assert "rule ESCAPE (line 9, column 11)" in result.stdout
    assert "'_' are not allowed" in result.stdout


def test_assess_prints_one_json_object_per_item(traffic: Path) -> None:
    files = sorted((traffic / "itmatt").glob("*.xml"))[:3]
    result = run("assess", "--json", *map(str, files))
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) >= len(files)
    for row in rows:
        assert set(row) == {"item_id", "score", "action", "security_action", "hits"}
        assert 0 <= row["score"] <= 100
        for hit in row["hits"]:
            assert set(hit) == {"rule", "score", "reason"} and hit["reason"]


def test_evaluate_detects_every_scenario_class(traffic: Path) -> None:
    result = run("evaluate", "--json", str(traffic))
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    labelled = {name: c for name, c in report["classes"].items() if c["labelled"]}
    assert len(labelled) == 15
    for name, scores in labelled.items():
        assert scores["recall"] >= 0.8, (name, scores)
    assert report["false_positive_rate"] <= 0.03
    # Adversarial variants are scored apart from the plain ones, traps counted on their own.
    assert {"plain", "adversarial"} <= set(report["groups"])
    for name, scores in report["groups"]["adversarial"].items():
        if scores["labelled"] >= 10:
            assert scores["recall"] >= 0.8, (name, scores)
    assert report["traps"] and all(t["items"] for t in report["traps"].values())
    assert any(key.endswith("/misspelt") for key in report["variants"])
