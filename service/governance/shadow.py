"""Shadow against active on the same live items: what the candidate would have changed.

Each item a shadow version scored is compared with the active version's
decision for the same item: items flagged by each, by both, per band, the
items whose action would change (with both sets of reasons) and hits per rule.
Counts are aggregated by the database and at most `MAX_CHANGED` items are
listed, so a long period costs the API no more memory than a short one.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Assessment, AssessmentHit, ShadowAssessment

MAX_CHANGED = 200
_S, _A = ShadowAssessment, Assessment
_NONE = "-"
#: Which versions decided what, for one item: what the comparison groups by.
_COMPARED = (
    _S.ruleset, _S.ruleset_version, _A.ruleset, _A.ruleset_version,
    _A.action, _A.security_action, _S.action, _S.security_action,
)  # fmt: skip


def _flagged(action: str, security: str | None) -> bool:
    return action != "RELEASE" or security is not None


def _reasons(hits: list[Any]) -> list[str]:
    return [f"{hit.get('rule')}: {hit.get('reason')}" for hit in hits or []]


def _in_period(since: datetime, until: datetime) -> Any:
    return and_(_S.assessed_at >= since, _S.assessed_at < until)


async def compare_shadow(
    session: AsyncSession, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """One comparison per shadow version that scored items in the period."""
    period = _in_period(since, until)
    grouped = await session.execute(
        select(*_COMPARED, func.count())
        .join(_A, _A.item_row_id == _S.item_row_id)
        .where(period)
        .group_by(*_COMPARED)
    )
    by_version: dict[tuple[str, str], dict[str, Any]] = {}
    for name, version, a_name, a_version, a_action, a_sec, s_action, s_sec, n in grouped:
        found = by_version.setdefault(
            (name, version),
            {
                "shadow": f"{name} {version}", "active": set(), "items": 0,
                "flagged_shadow": 0, "flagged_active": 0, "flagged_both": 0,
                "bands": Counter(), "changed": 0,
            },
        )  # fmt: skip
        count = int(n)
        mine, theirs = _flagged(s_action, s_sec), _flagged(a_action, a_sec)
        found["active"].add(f"{a_name} {a_version}")
        found["items"] += count
        found["flagged_shadow"] += count * mine
        found["flagged_active"] += count * theirs
        found["flagged_both"] += count * (mine and theirs)
        found["bands"][f"{a_sec or a_action} -> {s_sec or s_action}"] += count
        if (s_action, s_sec) != (a_action, a_sec):
            found["changed"] += count
    out = []
    for (name, version), found in by_version.items():
        found["active"] = sorted(found["active"])
        found["bands"] = dict(sorted(found["bands"].items()))
        found["hits_per_rule"] = await _hits_per_rule(session, period, version)
        found["changed_items"] = await _changed(session, period, name, version)
        out.append(found)
    return out


async def _hits_per_rule(session: AsyncSession, period: Any, version: str) -> list[dict[str, Any]]:
    """Hits of the shadow version and of the active one, on the items the shadow scored."""
    rows = await session.execute(
        select(AssessmentHit.rule, AssessmentHit.shadow, func.count())
        .join(_S, _S.item_row_id == AssessmentHit.item_row_id)
        .where(
            period,
            _S.ruleset_version == version,
            or_(AssessmentHit.shadow.is_(False), AssessmentHit.ruleset_version == version),
        )
        .group_by(AssessmentHit.rule, AssessmentHit.shadow)
    )
    counts: dict[str, dict[str, int]] = {}
    for rule, shadow, n in rows:
        counts.setdefault(rule, {"active": 0, "shadow": 0})["shadow" if shadow else "active"] = int(
            n
        )
    return [{"rule": rule, **counts[rule]} for rule in sorted(counts)]


async def _changed(
    session: AsyncSession, period: Any, name: str, version: str
) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(
            _S.item_id,
            _A.action,
            _A.security_action,
            _A.hits,
            _S.action,
            _S.security_action,
            _S.hits,
        )
        .join(_A, _A.item_row_id == _S.item_row_id)
        .where(
            period,
            _S.ruleset == name,
            _S.ruleset_version == version,
            or_(
                _S.action != _A.action,
                func.coalesce(_S.security_action, _NONE)
                != func.coalesce(_A.security_action, _NONE),
            ),
        )
        .order_by(_S.assessed_at)
        .limit(MAX_CHANGED)
    )
    return [
        {
            "item_id": item_id,
            "active": a_sec or a_action,
            "shadow": s_sec or s_action,
            "active_reasons": _reasons(a_hits),
            "shadow_reasons": _reasons(s_hits),
        }
        for item_id, a_action, a_sec, a_hits, s_action, s_sec, s_hits in rows
    ]
