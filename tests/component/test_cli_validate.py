"""`aedex validate` over generated traffic reports exactly the labelled codes.

Runs the installed console script in a subprocess, as a user or CI would, so
exit codes and JSON output are checked through the real interface.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from adapters.generator import GeneratorOptions, write_traffic

AEDEX = shutil.which("aedex") or str(Path(sys.executable).with_name("aedex"))
ITEM_PATH = re.compile(r"^Item\[(\d+)\]")


def run_validate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AEDEX, "validate", *args], capture_output=True, text=True, timeout=600, check=False
    )


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("traffic")
    write_traffic(out, GeneratorOptions(items=600, seed=11, defects=True, defect_rate=0.3))
    return out


def load_labels(root: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (root / "labels.jsonl").read_text().splitlines()]


def test_reports_exactly_the_labelled_codes(traffic: Path) -> None:
    # CN 23 CSV exports carry no envelope, so `validate` does not take them (README).
    labels = [label for label in load_labels(traffic) if not str(label["file"]).startswith("cn23/")]
    files = sorted({str(label["file"]) for label in labels})
    result = run_validate("--json", *(str(traffic / f) for f in files))
    assert result.returncode == 1, result.stderr  # defects include errors
    reports = {
        str(Path(r["file"]).relative_to(traffic)): r
        for r in map(json.loads, result.stdout.splitlines())
    }
    assert set(reports) == set(files)

    reported: dict[tuple[str, int | None], set[str]] = defaultdict(set)
    for file, report in reports.items():
        for finding in report["findings"]:
            match = ITEM_PATH.match(finding["path"])
            index = int(match.group(1)) if match else None
            reported[(file, index)].add(finding["code"])

    expected: dict[tuple[str, int | None], set[str]] = defaultdict(set)
    for label in labels:
        index = label["item_index"]
        expected[(str(label["file"]), index if isinstance(index, int) else None)].update(
            map(str, label["expected"])  # type: ignore[call-overload]
        )
    mismatches = {
        key: (sorted(expected.get(key, set())), sorted(reported.get(key, set())))
        for key in set(expected) | set(reported)
        if expected.get(key, set()) != reported.get(key, set())
    }
    assert not mismatches, mismatches
    defects = {str(label["defect"]) for label in labels if label["defect"]}
    assert len(defects) >= 20, defects


def test_clean_file_exits_zero_and_counts_items(tmp_path: Path) -> None:
    write_traffic(tmp_path, GeneratorOptions(items=60, seed=3))
    itmatt = sorted((tmp_path / "itmatt").glob("*.xml"))[0]
    result = run_validate("--json", str(itmatt))
    assert result.returncode == 0, result.stdout
    report = json.loads(result.stdout)
    assert report["type"] == "ITMATT" and report["items"] > 0 and report["findings"] == []


def test_unreadable_file_exits_two(tmp_path: Path) -> None:
    result = run_validate(str(tmp_path / "missing.xml"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_human_output_names_code_and_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_bytes(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><x>&e;</x>')
    result = run_validate(str(bad))
    assert result.returncode == 1
    assert result.stdout.startswith("REFUSED ")
    assert "XML_FORBIDDEN" in result.stdout


def test_one_bad_item_makes_the_file_partial(tmp_path: Path) -> None:
    from messages.codec import encode_itmatt
    from tests import builders as b

    path = tmp_path / "partial.xml"
    path.write_bytes(encode_itmatt(b.itmatt(b.item(), b.item(item_id="RB123456786GB"))))
    result = run_validate(str(path))
    assert result.returncode == 1
    first_line, finding = result.stdout.splitlines()[:2]
    assert first_line.startswith("PARTIAL ") and "2 items, 1 rejected" in first_line
    assert "ITEM_ID_CHECK_DIGIT" in finding and "Item[2]/ItemId" in finding


def test_cusrsp_is_detected_and_schema_checked(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from messages.codec import encode_cusrsp
    from messages.models import CusrspHeader, CusrspMessage, Response

    now = datetime(2026, 11, 22, 12, tzinfo=UTC)
    message = CusrspMessage(
        header=CusrspHeader(
            message_id="R1", sender_authority="DE004853", recipient_operator="DEA", prepared_at=now
        ),
        responses=[
            Response(item_id="RR123456785CN", in_reply_to="M1", decision="RELEASE", axis="FISCAL",
                     processing_indicator=4, decided_at=now)
        ],
    )  # fmt: skip
    good = tmp_path / "good.xml"
    good.write_bytes(encode_cusrsp(message))
    bad = tmp_path / "bad.xml"
    bad.write_bytes(encode_cusrsp(message).replace(b">RELEASE<", b">MAYBE<"))
    ok = json.loads(run_validate("--json", str(good)).stdout)
    assert ok["type"] == "CUSRSP" and ok["findings"] == [] and ok["items"] == 1
    result = run_validate("--json", str(bad))
    assert result.returncode == 1
    assert [f["code"] for f in json.loads(result.stdout)["findings"]] == ["SCHEMA"]


def test_empty_and_unknown_files_say_why(tmp_path: Path) -> None:
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"  \n")
    unknown = tmp_path / "notes.txt"
    unknown.write_text("dear customs,\n")
    result = run_validate("--json", str(empty), str(unknown))
    assert result.returncode == 1
    messages = [json.loads(line)["findings"][0]["message"] for line in result.stdout.splitlines()]
    assert messages[0] == "file is empty"
    assert "express manifest" in messages[1]


def test_broken_manifest_names_the_location(tmp_path: Path) -> None:
    bad = tmp_path / "manifest.json"
    bad.write_text(
        '{"carrier": "DHLX", "manifest_id": "M1", "shipments": [{"hawb": "1", "lines": 7}]}'
    )
    report = json.loads(run_validate("--json", str(bad)).stdout)
    assert report["type"] == "MANIFEST_JSON"
    assert [(f["code"], f["path"]) for f in report["findings"]] == [
        ("SCHEMA", "shipments[0].lines")
    ]
