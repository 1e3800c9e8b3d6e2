"""`aedex generate --base-time` and `aedex assess --received-at`: traffic is dated relative to
a base time, and offline assessment judges lateness as of a given receipt time."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from service.cli.main import app

BASE = "2026-12-02T09:30:00+01:00"


def _generate(out: Path, *extra: str) -> None:
    args = ["generate", "--items", "120", "--seed", "9", "--items-per-message", "15"]
    result = CliRunner().invoke(app, [*args, "--out", str(out), *extra])
    assert result.exit_code == 0, result.output


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _entries(root: Path) -> list[dict[str, object]]:
    """The message files `aedex assess` reads (CN 23 exports need their envelope)."""
    entries = [json.loads(line) for line in (root / "files.jsonl").read_text().splitlines()]
    return [e for e in entries if e["kind"] != "cn23-csv"]


def _messages(root: Path) -> list[str]:
    return [str(root / str(e["file"])) for e in _entries(root)]


def _assess(root: Path, *extra: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(app, ["assess", *_messages(root), "--json", *extra])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_same_seed_and_base_time_write_the_same_bytes(tmp_path: Path) -> None:
    _generate(tmp_path / "a", "--base-time", BASE)
    _generate(tmp_path / "b", "--base-time", BASE)
    _generate(tmp_path / "c", "--base-time", "2026-12-03T09:30:00+01:00")
    first = _files(tmp_path / "a")
    assert first == _files(tmp_path / "b")
    assert first != _files(tmp_path / "c")
    entries = [
        json.loads(line) for line in (tmp_path / "a" / "files.jsonl").read_text().splitlines()
    ]
    prepared = [datetime.fromisoformat(e["prepared_at"]) for e in entries]
    assert max(prepared) == datetime.fromisoformat(BASE)


def test_base_time_needs_an_offset(tmp_path: Path) -> None:
    for wrong in ("2026-12-02T09:30:00", "yesterday"):
        result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path), "--base-time", wrong])
        assert result.exit_code == 2
        assert "--base-time" in result.output
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_assess_judges_lateness_as_of_the_receipt_time(tmp_path: Path) -> None:
    _generate(tmp_path, "--base-time", BASE)
    as_prepared = _assess(tmp_path)
    assert len(as_prepared) == sum(int(str(e["items"])) for e in _entries(tmp_path)) > 80
    assert all(item["action"] == "RELEASE" for item in as_prepared)  # clean traffic, current
    assert _assess(tmp_path, "--received-at", BASE) == as_prepared

    # Four days on, every item is past its arrival or 72 h after posting.
    later = (datetime.fromisoformat(BASE) + timedelta(days=4)).isoformat()
    late = _assess(tmp_path, "--received-at", later)
    assert [item["item_id"] for item in late] == [item["item_id"] for item in as_prepared]
    for item in late:
        assert item["action"] == "DOCUMENTS_REQUIRED", item
        assert [hit["rule"] for hit in item["hits"]] == ["LATE_DATA"]  # type: ignore[union-attr]


def test_received_at_needs_an_offset(tmp_path: Path) -> None:
    _generate(tmp_path, "--base-time", BASE)
    result = CliRunner().invoke(
        app, ["assess", *_messages(tmp_path)[:1], "--received-at", "2026-12-02 09:30"]
    )
    assert result.exit_code == 2
    assert "--received-at" in result.output and "UTC offset" in result.output
