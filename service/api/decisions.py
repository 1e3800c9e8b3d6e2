"""Officers' decisions over HTTP: decide an item, amend a decision, decide a group.

Each route is one transaction (service.review.decide): the decision, its CUSRSP
and the outbox row the relay publishes are committed before the answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from service.api.deps import RuntimeDep, SessionDep
from service.api.schemas import KEYED, Problem, refusals
from service.api.staff import OfficerDep, SupervisorDep
from service.review.decide import (
    AmendmentIn,
    DecisionIn,
    DecisionOut,
    GroupDecisionIn,
    amend,
    decide,
    decide_group,
)

router = APIRouter(prefix="/v1", tags=["officers"])

ItemId = Annotated[str, Path(min_length=1, max_length=35)]
REFUSALS = {
    400: {"model": Problem, "description": "the body is not JSON"},
    **refusals(403, 404, *KEYED),
    409: {
        "model": Problem,
        "description": "TASK_DECIDED, TASK_CLAIMED (another officer holds it), VERSION_CONFLICT "
        "(it changed since you read it) or TASK_NOT_DECIDED (nothing to amend)",
    },
}


@router.post("/items/{item_id}/decision", response_model=DecisionOut, responses=REFUSALS)
async def post_decision(
    item_id: ItemId, body: DecisionIn, caller: OfficerDep, session: SessionDep, rt: RuntimeDep
) -> DecisionOut:
    """Decide the item's open review task; the operator gets a CUSRSP with the decision."""
    return await decide(session, caller, item_id, body, customs_office=rt.settings.customs_office)


@router.post("/items/{item_id}/amendment", response_model=DecisionOut, responses=REFUSALS)
async def post_amendment(
    item_id: ItemId,
    body: AmendmentIn,
    caller: SupervisorDep,
    session: SessionDep,
    rt: RuntimeDep,
) -> DecisionOut:
    """Replace the latest decision (supervisor, with a reason); a further CUSRSP goes out."""
    return await amend(session, caller, item_id, body, customs_office=rt.settings.customs_office)


@router.post("/review/group-decision", response_model=list[DecisionOut], responses=REFUSALS)
async def post_group_decision(
    body: GroupDecisionIn, caller: OfficerDep, session: SessionDep, rt: RuntimeDep
) -> list[DecisionOut]:
    """Decide several items at once (a splitting window, a selection): all or none."""
    return await decide_group(session, caller, body, customs_office=rt.settings.customs_office)
