"""Per-rule performance against officers' outcomes: queries over hits as rows.

For each rule and ruleset version over a period: hits, hit rate (hits per
item that version scored), reviewed (hits on items an officer decided),
confirmed (infringement found) and cleared, precision (confirmed / reviewed),
lift (precision over the base rate: the share of reviewed items in the period
with an infringement), revenue corrected and seizures; and the same per band
(the action each item was given). Shadow hits are counted apart.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Integer, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Assessment, AssessmentHit, ReviewTask, ShadowAssessment

_CONFIRMED = case((ReviewTask.infringement.is_(True), 1), else_=0)
_CLEARED = case((ReviewTask.infringement.is_(False), 1), else_=0)
_REVIEWED = case((ReviewTask.infringement.is_not(None), 1), else_=0)
_SEIZED = case(
    (and_(ReviewTask.infringement.is_(True), ReviewTask.decision == "SEIZE"), 1), else_=0
)
_REVENUE = case((ReviewTask.infringement.is_(True), ReviewTask.revenue_corrected_eur), else_=None)


def ratio(part: int, whole: int) -> float | None:
    """part / whole to four places; None when there is no whole."""
    return round(part / whole, 4) if whole else None


async def base_rate(session: AsyncSession, since: datetime, until: datetime) -> dict[str, Any]:
    """Reviewed and confirmed items assessed in the period (any rule, any version)."""
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(_REVIEWED), 0).cast(Integer),
                func.coalesce(func.sum(_CONFIRMED), 0).cast(Integer),
            )
            .select_from(Assessment)
            .join(ReviewTask, ReviewTask.item_row_id == Assessment.item_row_id)
            .where(Assessment.assessed_at >= since, Assessment.assessed_at < until)
        )
    ).one()
    reviewed, confirmed = int(row[0]), int(row[1])
    return {"reviewed": reviewed, "confirmed": confirmed, "rate": ratio(confirmed, reviewed)}


async def scored_items(
    session: AsyncSession, since: datetime, until: datetime
) -> dict[tuple[str, str], int]:
    """Items each ruleset version scored in the period: the hit rate's denominator."""
    rows = await session.execute(
        select(Assessment.ruleset, Assessment.ruleset_version, func.count())
        .where(Assessment.assessed_at >= since, Assessment.assessed_at < until)
        .group_by(Assessment.ruleset, Assessment.ruleset_version)
    )
    return {(name, version): int(n) for name, version, n in rows}


async def rule_stats(
    session: AsyncSession, since: datetime, until: datetime, *, shadow: bool = False
) -> dict[str, Any]:
    """Every rule that hit in the period, per version, with its outcomes."""
    base = await base_rate(session, since, until)
    scored = await scored_items(session, since, until)
    if shadow:
        shadowed = await session.execute(
            select(ShadowAssessment.ruleset, ShadowAssessment.ruleset_version, func.count())
            .where(ShadowAssessment.assessed_at >= since, ShadowAssessment.assessed_at < until)
            .group_by(ShadowAssessment.ruleset, ShadowAssessment.ruleset_version)
        )
        scored = {(name, version): int(n) for name, version, n in shadowed}
    period = and_(
        AssessmentHit.assessed_at >= since,
        AssessmentHit.assessed_at < until,
        AssessmentHit.shadow.is_(shadow),
    )
    hit_rows = await session.execute(
        select(
            AssessmentHit.rule,
            AssessmentHit.ruleset,
            AssessmentHit.ruleset_version,
            AssessmentHit.axis,
            func.count(),
            func.coalesce(func.sum(_REVIEWED), 0),
            func.coalesce(func.sum(_CONFIRMED), 0),
            func.coalesce(func.sum(_CLEARED), 0),
            func.sum(_REVENUE),
            func.coalesce(func.sum(_SEIZED), 0),
        )
        .select_from(AssessmentHit)
        .outerjoin(ReviewTask, ReviewTask.item_row_id == AssessmentHit.item_row_id)
        .where(period)
        .group_by(
            AssessmentHit.rule,
            AssessmentHit.ruleset,
            AssessmentHit.ruleset_version,
            AssessmentHit.axis,
        )
        .order_by(AssessmentHit.ruleset_version, func.count().desc(), AssessmentHit.rule)
    )
    rules = []
    for rule, name, version, axis, hits, reviewed, confirmed, cleared, revenue, seized in hit_rows:
        precision = ratio(int(confirmed), int(reviewed))
        rules.append(
            {
                "rule": rule,
                "ruleset": name,
                "version": version,
                "axis": axis,
                "hits": int(hits),
                "hit_rate": ratio(int(hits), scored.get((name, version), 0)),
                "reviewed": int(reviewed),
                "confirmed": int(confirmed),
                "cleared": int(cleared),
                "precision": precision,
                "lift": (
                    round(precision / base["rate"], 2)
                    if precision is not None and base["rate"]
                    else None
                ),
                "revenue_corrected_eur": str(Decimal(revenue or 0).quantize(Decimal("0.01"))),
                "seizures": int(seized),
            }
        )
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "shadow": shadow,
        "base_rate": base,
        "items_scored": [
            {"ruleset": name, "version": version, "items": n}
            for (name, version), n in sorted(scored.items())
        ],
        "rules": rules,
        "bands": await band_stats(session, since, until),
    }


async def band_stats(
    session: AsyncSession, since: datetime, until: datetime
) -> list[dict[str, Any]]:
    """Per version and the action items were given: items, reviewed, confirmed, precision."""
    band = func.coalesce(Assessment.security_action, Assessment.action)
    rows = await session.execute(
        select(
            Assessment.ruleset,
            Assessment.ruleset_version,
            band,
            func.count(),
            func.coalesce(func.sum(_REVIEWED), 0),
            func.coalesce(func.sum(_CONFIRMED), 0),
            func.sum(_REVENUE),
        )
        .select_from(Assessment)
        .outerjoin(ReviewTask, ReviewTask.item_row_id == Assessment.item_row_id)
        .where(Assessment.assessed_at >= since, Assessment.assessed_at < until)
        .group_by(Assessment.ruleset, Assessment.ruleset_version, band)
        .order_by(Assessment.ruleset_version, band)
    )
    return [
        {
            "ruleset": name,
            "version": version,
            "band": action,
            "items": int(items),
            "reviewed": int(reviewed),
            "confirmed": int(confirmed),
            "precision": ratio(int(confirmed), int(reviewed)),
            "revenue_corrected_eur": str(Decimal(revenue or 0).quantize(Decimal("0.01"))),
        }
        for name, version, action, items, reviewed, confirmed, revenue in rows
    ]
