"""Request dependencies: state, the unit of work, and the authenticated caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from connections_api.errors import Forbidden, Unauthorized
from connections_api.state import AppState
from connections_api.uow import Unit, app_state, read_session, unit_of_work
from contracts import Principal
from rita_auth import InvalidToken

StateDep = Annotated[AppState, Depends(app_state)]
_bearer = HTTPBearer(auto_error=False, description="A JWT with sub, email, tenant_id, role")


async def _unit(state: StateDep) -> AsyncIterator[Unit]:
    async for unit in unit_of_work(state):
        yield unit


async def _read(state: StateDep) -> AsyncIterator[AsyncSession]:
    async for session in read_session(state):
        yield session


ReadDep = Annotated[AsyncSession, Depends(_read)]

# scope="function": commit (and publish) before the response is sent, so a client that reads
# after a 2xx sees the change, and a failed commit is an error response, not a lost write.
UnitDep = Annotated[Unit, Depends(_unit, scope="function")]


async def current_principal(
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The verified caller, or 401."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Send Authorization: Bearer <token>")
    try:
        return await state.tokens.verify(credentials.credentials)
    except InvalidToken as exc:
        raise Unauthorized(str(exc)) from None


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def current_admin(principal: PrincipalDep) -> Principal:
    """An owner or admin of the tenant, or 403."""
    if not principal.role.can_change:
        raise Forbidden()
    return principal


AdminDep = Annotated[Principal, Depends(current_admin)]
