"""fake-servicenow's own admin routes beside the shared ones: the churn knob.

- `GET|PUT /_admin/churn` `{"per_page": n}`: incidents updated after each incident page
- `POST /_admin/churn` `{"count": n}`: update n incidents now; answers what changed
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from pydantic import BaseModel, ConfigDict, Field

from fake_servicenow.routes import state_of

router = APIRouter(prefix="/_admin/churn")


class ChurnSetting(BaseModel):
    """How many incidents to update after each incident page."""

    model_config = ConfigDict(extra="forbid")

    per_page: int = Field(ge=0)


class ChurnNow(BaseModel):
    """How many incidents to update now."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=1, ge=1)


def _setting(request: Request) -> dict[str, int]:
    state = state_of(request)
    return {"per_page": state.churn_per_page, "churned_total": state.churned_total}


@router.get("")
async def get_churn(request: Request) -> dict[str, int]:
    """The churn setting and how many updates it made so far."""
    return _setting(request)


@router.put("")
async def put_churn(request: Request, body: Annotated[ChurnSetting, Body()]) -> dict[str, int]:
    """Set how many incidents change after each incident page (0 = none)."""
    state_of(request).churn_per_page = body.per_page
    return _setting(request)


@router.post("")
async def churn_now(request: Request, body: Annotated[ChurnNow, Body()]) -> dict[str, Any]:
    """Update `count` incidents now (sys_updated_on = the instance's now)."""
    changed = state_of(request).churn(body.count)
    return {
        "updated": [
            {
                "sys_id": record["sys_id"],
                "number": record["number"],
                "sys_updated_on": record["sys_updated_on"],
            }
            for record in changed
        ]
    }
