"""Who may call the officers' routes: a staff bearer token with a role high enough.

Anonymous or unknown → 401; an operator's API key, or a role too low → 403
(the caller is known, the route is not theirs). A disabled user's tokens are
revoked, so they are unknown (401).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from service.accounts import TOKEN_PREFIX, Staff, staff_for_token
from service.api.deps import RuntimeDep, operator, within_limits
from service.api.guard import CALLER
from service.db.models import Role
from service.errors import Forbidden, Unauthorised
from service.keys import operator_for_key

_STAFF_BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="StaffToken",
    description="an officer's token (`aedex users token NAME`): `Authorization: Bearer TOKEN`",
)


def staff(role: Role) -> Callable[..., AsyncIterator[Staff]]:
    """A dependency admitting staff of `role` or above."""

    async def admitted(
        request: Request,
        rt: RuntimeDep,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_STAFF_BEARER)],
    ) -> AsyncIterator[Staff]:
        token = bearer.credentials.strip() if bearer else ""
        if not token:
            raise Unauthorised("a staff token is required (Authorization: Bearer TOKEN)")
        async with rt.sessions() as session:
            found = await staff_for_token(session, token)
            operator = None if found else await operator_for_key(session, token)
        if found is None:
            if operator is not None:
                raise Forbidden("an operator key cannot use the officers' routes")
            raise Unauthorised("unknown, revoked or disabled token")
        request.scope.setdefault("state", {})[CALLER] = found.username
        if not found.at_least(role):
            raise Forbidden(f"this route needs the {role.value} role or above")
        async with within_limits(request, rt, token):
            yield found

    return admitted


OfficerDep = Annotated[Staff, Depends(staff(Role.OFFICER))]
SupervisorDep = Annotated[Staff, Depends(staff(Role.SUPERVISOR))]


_API_KEY_HEADER = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="an operator key, for clients without bearer auth",
)


async def item_reader(
    request: Request,
    rt: RuntimeDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_STAFF_BEARER)],
    header_key: Annotated[str | None, Depends(_API_KEY_HEADER)],
) -> AsyncIterator[str | Staff]:
    """Who reads `GET /v1/items/{id}`: an officer (the case view) or an operator (its own item,
    no scores, no hits). Staff tokens carry their own prefix, so a glance tells which."""
    token = bearer.credentials.strip() if bearer else ""
    if token.startswith(TOKEN_PREFIX):
        async with rt.sessions() as session:
            found = await staff_for_token(session, token)
        if found is None:
            raise Unauthorised("unknown, revoked or disabled token")
        request.scope.setdefault("state", {})[CALLER] = found.username
        if not found.at_least(Role.OFFICER):
            raise Forbidden("the case view needs the officer role or above")
        async with within_limits(request, rt, token):
            yield found
        return
    as_operator = operator(request, rt, bearer, header_key)
    code = await as_operator.__anext__()
    try:
        yield code
    finally:
        await as_operator.aclose()


ItemReaderDep = Annotated[str | Staff, Depends(item_reader)]
