"""Writing a traffic run to disk: the one place the generator touches the filesystem.

Layout under `out_dir`: `itmatt/*.xml`, `cusitm/*.xml`, `manifests/*.json|*.csv`,
`cn23/*.csv`, `hostile/*.xml`, plus `labels.jsonl` (ground truth per item and per
message-level case) and `files.jsonl` (the envelope of each file: what a CN 23
CSV or a manifest does not carry itself but ingestion needs).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from adapters.generator.traffic import GeneratorOptions, generate

LABELS_FILE = "labels.jsonl"
FILES_INDEX = "files.jsonl"


@dataclass(frozen=True, slots=True)
class TrafficSummary:
    """What a run wrote: files and labelled items per kind, how many carry a defect, and
    how many items carry each risk scenario."""

    out_dir: Path
    files: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    defective_items: int = 0
    message_defects: int = 0
    scenario_items: dict[str, int] = field(default_factory=dict)

    @property
    def total_items(self) -> int:
        return sum(self.items.values())

    @property
    def labels_path(self) -> Path:
        return self.out_dir / LABELS_FILE


def write_traffic(out_dir: Path, options: GeneratorOptions) -> TrafficSummary:
    """Generate and write one run into `out_dir`, which must be empty or not exist yet
    (files of an earlier run would silently mix with this run's labels)."""
    if out_dir.exists() and any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty; write traffic into a new directory")
    out_dir.mkdir(parents=True, exist_ok=True)
    files: Counter[str] = Counter()
    items: Counter[str] = Counter()
    scenarios: Counter[str] = Counter()
    defective = message_defects = 0
    with (
        (out_dir / LABELS_FILE).open("w", encoding="utf-8", newline="\n") as labels,
        (out_dir / FILES_INDEX).open("w", encoding="utf-8", newline="\n") as index,
    ):
        for generated in generate(options):
            target = out_dir / generated.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(generated.data)
            index.write(generated.envelope.to_json(generated.path) + "\n")
            files[generated.kind] += 1
            for label in generated.labels:
                labels.write(label.to_json() + "\n")
                if label.item_index is None:
                    message_defects += 1
                else:
                    items[generated.kind] += 1
                    defective += label.defect is not None
                    if label.scenario is not None:
                        scenarios[label.scenario] += 1
    return TrafficSummary(
        out_dir=out_dir,
        files=dict(sorted(files.items())),
        items=dict(sorted(items.items())),
        defective_items=defective,
        message_defects=message_defects,
        scenario_items=dict(sorted(scenarios.items())),
    )
