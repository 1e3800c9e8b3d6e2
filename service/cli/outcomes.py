"""`aedex evaluate DIR --record-outcomes`: decide review tasks as a perfect officer would.

Generated traffic carries its truth in labels.jsonl: a scenario label is a
risk the officer finds, no label is a clean item. Each open review task of an
item of that traffic is decided through the real decision route (POST
/v1/items/{id}/decision, as the officer's UI does): an infringement with the
class as its kind, SEIZE for prohibited and restricted goods, HOLD for duty
and declaration risks (with the revenue a correction would bring), RELEASE
for a clean item. The CUSRSPs go to the operators as any decision's do, and
rule statistics then have outcomes to count.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from service.cli.evaluation import read_labels
from service.cli.failures import CliFailure

#: Classes whose goods are taken off the stream.
SEIZED = frozenset({"counterfeit", "wildlife", "opioids", "dangerous_goods", "prohibited"})
#: Classes where a correction brings revenue (a share of the declared value, for the demo).
FISCAL = frozenset(
    {"undervaluation", "threshold_value", "splitting", "gift_misdeclaration", "hs_mismatch"}
)
REVENUE_SHARE = Decimal("0.20")


@dataclass
class Recorded:
    decided: int = 0
    infringements: int = 0
    cleared: int = 0
    unlabelled: int = 0


def _labels(directory: Path) -> dict[str, dict[str, Any]]:
    """Labels by item id, as the API keys items (trimmed, upper case)."""
    return {
        item_id.strip().upper(): label for (_, item_id), label in read_labels(directory).items()
    }


def _decision(label: dict[str, Any], value_eur: Decimal) -> dict[str, Any]:
    scenario = label.get("scenario")
    if scenario is None:
        return {"decision": "RELEASE", "outcome": {"infringement": False}}
    revenue = (value_eur * REVENUE_SHARE).quantize(Decimal("0.01")) if scenario in FISCAL else None
    outcome: dict[str, Any] = {"infringement": True, "kind": scenario}
    if revenue is not None:
        outcome["revenue_corrected_eur"] = str(revenue)
    return {"decision": "SEIZE" if scenario in SEIZED else "HOLD", "outcome": outcome}


def record_outcomes(directory: Path, url: str, token: str) -> Recorded:
    if not token:
        raise CliFailure("an officer's token is needed: --token or AEDEX_TOKEN")
    labels = _labels(directory)
    done = Recorded()
    with httpx.Client(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:
        after: int | None = 0
        seen: set[str] = set()
        pending: list[dict[str, Any]] = []
        while after is not None:
            page = _json(client.get("/v1/review/queue", params={"after": after, "limit": 200}))
            pending += page["tasks"]
            after = page["next"]
        for task in pending:
            item_id = str(task["item_id"]).upper()
            label = labels.get(item_id)
            if label is None or item_id in seen:
                done.unlabelled += label is None
                continue
            seen.add(item_id)
            case = _json(client.get(f"/v1/items/{item_id}"))
            value = Decimal(str((case.get("declared") or {}).get("total_value_eur") or 0))
            body = {
                **_decision(label, value),
                "version": task["version"],
                "note": "recorded from labels",
            }
            answer = client.post(f"/v1/items/{item_id}/decision", json=body)
            if answer.status_code == 409:
                continue  # decided meanwhile, by someone else
            _json(answer)
            done.decided += 1
            if body["outcome"]["infringement"]:
                done.infringements += 1
            else:
                done.cleared += 1
    return done


def _json(answer: httpx.Response) -> Any:
    if answer.status_code >= 400:
        raise CliFailure(
            f"{answer.request.url.path}: HTTP {answer.status_code}: {answer.text[:300]}"
        )
    return answer.json()
