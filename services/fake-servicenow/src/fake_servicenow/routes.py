"""The ServiceNow REST endpoints: Table API reads and the aggregate (stats) API."""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from emulator.accounts import Account
from emulator.core import core_of
from fake_servicenow.config import NO_INCIDENTS
from fake_servicenow.errors import ServiceNowError
from fake_servicenow.query import Path, Query, QueryError, parse
from fake_servicenow.render import DisplayMode, Renderer, field_paths
from fake_servicenow.state import FakeServiceNowState
from fake_servicenow.tables import TABLES

router = APIRouter(prefix="/api/now")
PAGED_TABLE = "incident"  # the gate holds, and churn follows, pages of this table


def state_of(request: Request) -> FakeServiceNowState:
    """The app's emulator state."""
    state: FakeServiceNowState = request.app.state.fake_servicenow
    return state


async def admitted(request: Request) -> Account:
    """Latency, Basic auth, burst limit and injected faults (shared emulator plumbing)."""
    return await core_of(request).admit(request)


Admitted = Annotated[Account, Depends(admitted)]


def _readable(table: str, account: Account) -> None:
    if table not in TABLES:
        raise ServiceNowError(404, f"Invalid table {table}")
    if table == PAGED_TABLE and account.has(NO_INCIDENTS):
        raise ServiceNowError(
            403,
            "Insufficient rights to query records",
            f"User {account.login} does not have the itil role needed to read {table}",
        )


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").strip().lower() == "true"


def _integer(request: Request, name: str, default: int, minimum: int) -> int:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ServiceNowError(400, f"Invalid {name}", f"'{raw}' is not a number") from None
    return max(minimum, value)


def _display(request: Request) -> DisplayMode:
    raw = request.query_params.get("sysparm_display_value", "false").strip().lower()
    return raw if raw in ("true", "all") else "false"  # type: ignore[return-value]


def _base_url(request: Request, state: FakeServiceNowState) -> str:
    return (state.settings.public_url or str(request.base_url)).rstrip("/")


def _query(request: Request, state: FakeServiceNowState, table: str) -> Query:
    try:
        return parse(table, request.query_params.get("sysparm_query", ""), state.lookup)
    except QueryError as exc:
        raise ServiceNowError(400, "Invalid query", str(exc)) from exc


def _rendering(
    request: Request, state: FakeServiceNowState, table: str
) -> tuple[Renderer, tuple[tuple[str, Path], ...]]:
    """The renderer and field paths a read asks for (display value, reference links, fields)."""
    renderer = Renderer(
        _base_url(request, state),
        state.lookup,
        _display(request),
        _flag(request, "sysparm_exclude_reference_link"),
    )
    return renderer, field_paths(table, request.query_params.get("sysparm_fields", ""))


def _links(request: Request, base: str, offset: int, limit: int, total: int) -> str:
    params = dict(request.query_params)

    def url(at: int) -> str:
        paged = params | {"sysparm_offset": str(at), "sysparm_limit": str(limit)}
        return f"<{base}{request.url.path}?{urlencode(paged)}>"

    last = max(0, (total - 1) // limit * limit)
    links = [f'{url(0)};rel="first"']
    if offset > 0:
        links.append(f'{url(max(0, offset - limit))};rel="prev"')
    if offset + limit < total:
        links.append(f'{url(offset + limit)};rel="next"')
    links.append(f'{url(last)};rel="last"')
    return ",".join(links)


def _json(body: Any, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(content, media_type="application/json", headers=headers)


@router.get("/table/{table}")
async def table_list(request: Request, table: str, account: Admitted) -> Response:
    """Records of a table: sysparm_query/fields/limit/offset/display_value/exclude_reference_link;
    `X-Total-Count` and `Link` (first/prev/next/last) headers."""
    _readable(table, account)
    state = state_of(request)
    core = core_of(request)
    query = _query(request, state, table)
    offset = _integer(request, "sysparm_offset", 0, 0)
    limit = min(
        _integer(request, "sysparm_limit", state.settings.max_limit, 1), state.settings.max_limit
    )
    if table == PAGED_TABLE:
        await core.gate.passage()
    found = state.results(table, query)
    page = found[offset : offset + limit]
    renderer, paths = _rendering(request, state, table)
    body = {"result": [renderer.record(record, paths) for record in page]}
    headers: dict[str, str] = {}
    if not _flag(request, "sysparm_no_count"):
        headers["X-Total-Count"] = str(len(found))
    if not _flag(request, "sysparm_suppress_pagination_header"):
        headers["Link"] = _links(request, _base_url(request, state), offset, limit, len(found))
    core.served(len(page))
    response = _json(body, headers)
    if table == PAGED_TABLE and state.churn_per_page:
        # Records change between pages, as on a busy instance, never within one page.
        state.churn(state.churn_per_page)
    return response


@router.get("/table/{table}/{sys_id}")
async def table_record(request: Request, table: str, sys_id: str, account: Admitted) -> Response:
    """One record by sys_id."""
    _readable(table, account)
    state = state_of(request)
    record = state.lookup(table, sys_id)
    if record is None:
        raise ServiceNowError(
            404, "No Record found", "Record doesn't exist or ACL restricts the record retrieval"
        )
    renderer, paths = _rendering(request, state, table)
    core_of(request).served(1)
    return _json({"result": renderer.record(record, paths)})


@router.get("/stats/{table}")
async def table_stats(request: Request, table: str, account: Admitted) -> Response:
    """The aggregate API: `sysparm_count=true` gives `{"result": {"stats": {"count": "n"}}}`."""
    _readable(table, account)
    state = state_of(request)
    stats: dict[str, str] = {}
    if _flag(request, "sysparm_count"):
        stats["count"] = str(len(state.results(table, _query(request, state, table))))
    return _json({"result": {"stats": stats}})
