"""Request dependencies: state, the unit of work, and the authenticated caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param
from sqlalchemy.ext.asyncio import AsyncSession

from connections_api.errors import Forbidden, Unauthorized
from connections_api.state import AppState
from connections_api.uow import Unit, app_state, read_session, unit_of_work
from contracts import Principal
from rita_auth import InvalidToken
from servicekit import service_state

StateDep = Annotated[AppState, Depends(app_state)]


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


class BearerPrincipal(HTTPBearer):
    """The `HTTPBearer` scheme of the OpenAPI document that also verifies the token.

    One dependency instead of three (state, bearer, principal): FastAPI's per-dependency cost
    was a tenth of the list endpoint's CPU. Being a `SecurityBase`, it still documents itself.
    """

    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        """The verified caller, or 401."""
        scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
        if not token or scheme.lower() != "bearer":
            raise Unauthorized("Send Authorization: Bearer <token>")
        try:
            return await service_state(request, AppState).tokens.verify(token)
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from None


current_principal = BearerPrincipal(
    scheme_name="HTTPBearer", description="A JWT with sub, email, tenant_id, role"
)
PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def current_admin(principal: PrincipalDep) -> Principal:
    """An owner or admin of the tenant, or 403."""
    if not principal.role.can_change:
        raise Forbidden()
    return principal


AdminDep = Annotated[Principal, Depends(current_admin)]
