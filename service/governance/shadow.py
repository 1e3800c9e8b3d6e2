"""Shadow against active on the same live items: what the candidate would have changed.

Each item a shadow version scored is compared with the active version's
decision for the same item: items flagged by each, by both, per band, the
items whose action would change (with both sets of reasons) and hits per rule.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Assessment, ShadowAssessment

MAX_CHANGED = 200


def _flagged(action: str, security: str | None) -> bool:
    return action != "RELEASE" or security is not None


def _reasons(hits: list[Any]) -> list[str]:
    return [f"{hit.get('rule')}: {hit.get('reason')}" for hit in hits or []]


async def compare_shadow(
    session: AsyncSession, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """One comparison per shadow version that scored items in the period."""
    rows = await session.execute(
        select(
            ShadowAssessment.ruleset,
            ShadowAssessment.ruleset_version,
            ShadowAssessment.item_id,
            ShadowAssessment.action,
            ShadowAssessment.security_action,
            ShadowAssessment.hits,
            Assessment.ruleset,
            Assessment.ruleset_version,
            Assessment.action,
            Assessment.security_action,
            Assessment.hits,
        )
        .join(Assessment, Assessment.item_row_id == ShadowAssessment.item_row_id)
        .where(ShadowAssessment.assessed_at >= since, ShadowAssessment.assessed_at < until)
        .order_by(ShadowAssessment.assessed_at)
    )
    by_version: dict[tuple[str, str], dict[str, Any]] = {}
    for (
        name, version, item_id, action, security, hits,
        active_name, active_version, active_action, active_security, active_hits,
    ) in rows:  # fmt: skip
        found = by_version.setdefault(
            (name, version),
            {
                "shadow": f"{name} {version}",
                "active": set(),
                "items": 0,
                "flagged_shadow": 0,
                "flagged_active": 0,
                "flagged_both": 0,
                "bands": Counter(),
                "hits_shadow": Counter(),
                "hits_active": Counter(),
                "changed": 0,
                "changed_items": [],
            },
        )
        found["active"].add(f"{active_name} {active_version}")
        found["items"] += 1
        mine = _flagged(action, security)
        theirs = _flagged(active_action, active_security)
        found["flagged_shadow"] += mine
        found["flagged_active"] += theirs
        found["flagged_both"] += mine and theirs
        band_active = active_security or active_action
        band_shadow = security or action
        found["bands"][f"{band_active} -> {band_shadow}"] += 1
        found["hits_shadow"].update(hit.get("rule") for hit in hits or [])
        found["hits_active"].update(hit.get("rule") for hit in active_hits or [])
        if (action, security) != (active_action, active_security):
            found["changed"] += 1
            if len(found["changed_items"]) < MAX_CHANGED:
                found["changed_items"].append(
                    {
                        "item_id": item_id,
                        "active": band_active,
                        "shadow": band_shadow,
                        "active_reasons": _reasons(active_hits),
                        "shadow_reasons": _reasons(hits),
                    }
                )
    out = []
    for found in by_version.values():
        found["active"] = sorted(found["active"])
        found["bands"] = dict(sorted(found["bands"].items()))
        rules = sorted(set(found["hits_shadow"]) | set(found["hits_active"]))
        found["hits_per_rule"] = [
            {"rule": r, "active": found["hits_active"][r], "shadow": found["hits_shadow"][r]}
            for r in rules
        ]
        del found["hits_shadow"], found["hits_active"]
        out.append(found)
    return out
