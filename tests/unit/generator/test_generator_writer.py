"""write_traffic: the output layout, labels.jsonl and files.jsonl, the summary."""

import json
from pathlib import Path

import pytest

from adapters.generator import GeneratorOptions, write_traffic

OPTIONS = GeneratorOptions(items=90, seed=4, defects=True, defect_rate=0.3, items_per_message=10)
LABEL_KEYS = [
    "file", "message_id", "item_index", "item_id", "defect", "expected", "scenario", "variant",
]  # fmt: skip


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_layout_labels_and_summary(tmp_path: Path) -> None:
    out = tmp_path / "traffic"
    summary = write_traffic(out, OPTIONS)
    tree = _tree(out)
    folders = {name.split("/")[0] for name in tree if "/" in name}
    assert folders == {"itmatt", "cusitm", "manifests", "cn23", "hostile"}
    assert all(
        name.endswith(".xml") if name.startswith(("itmatt/", "cusitm/", "hostile/")) else True
        for name in tree
    )
    assert {Path(n).suffix for n in tree if n.startswith("manifests/")} == {".json", ".csv"}

    labels = [json.loads(line) for line in tree["labels.jsonl"].decode().splitlines()]
    assert all(list(label) == LABEL_KEYS for label in labels)
    assert all(label["file"] in tree for label in labels)
    items = [label for label in labels if label["item_index"] is not None]
    cases = [label for label in labels if label["item_index"] is None]
    assert len(items) == OPTIONS.items == summary.total_items
    assert all(label["expected"] == sorted(label["expected"]) for label in labels)
    assert all((label["defect"] is None) == (label["expected"] == []) for label in items)
    assert all(label["expected"] == [label["defect"]] for label in cases)
    assert {label["defect"] for label in cases} >= {
        "XML_MALFORMED",
        "XML_FORBIDDEN",
        "XML_TOO_LARGE",
    }
    assert summary.defective_items == sum(label["defect"] is not None for label in items)
    assert summary.message_defects == len(cases)
    assert all(label["scenario"] is None for label in labels) and summary.scenario_items == {}
    per_file: dict[str, list[int]] = {}
    for label in items:
        per_file.setdefault(label["file"], []).append(label["item_index"])
    assert all(indexes == list(range(1, len(indexes) + 1)) for indexes in per_file.values())

    index = [json.loads(line) for line in tree["files.jsonl"].decode().splitlines()]
    assert sorted(entry["file"] for entry in index) == sorted(
        n for n in tree if n not in ("labels.jsonl", "files.jsonl")
    )
    assert sum(summary.files.values()) == len(index)
    assert summary.files["hostile"] == 6
    cn23 = next(entry for entry in index if entry["kind"] == "cn23-csv")
    assert cn23["sender_operator"] and cn23["recipient_operator"] and cn23["prepared_at"]
    manifest = next(entry for entry in index if entry["kind"] == "manifest-json")
    assert manifest["customs_office"] and manifest["prepared_at"]


def test_same_options_write_identical_trees(tmp_path: Path) -> None:
    write_traffic(tmp_path / "a", OPTIONS)
    write_traffic(tmp_path / "b", OPTIONS)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")


def test_refuses_a_directory_with_files(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("earlier run")
    with pytest.raises(FileExistsError):
        write_traffic(tmp_path, OPTIONS)
