"""The Jira Cloud REST API v3 endpoints itsm-sync uses."""

from __future__ import annotations

import time
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from fake_jira.dataset import ISSUE_TYPES, STATUSES
from fake_jira.guard import Authenticated, Browser, JiraError, state_of
from fake_jira.jql import JqlError
from fake_jira.render import Renderer, encode, select_fields

router = APIRouter(prefix="/rest/api/3")
_DEFAULT_PAGE = 50
_ID_ONLY_CAP = 5000  # Jira serves the largest pages when only ids/keys are asked for


class SearchBody(BaseModel):
    """POST /search/jql body (unknown keys are accepted and ignored, as Jira does)."""

    model_config = ConfigDict(extra="allow")

    jql: str = ""
    nextPageToken: str | None = None  # noqa: N815 - Jira's wire name
    maxResults: int = _DEFAULT_PAGE  # noqa: N815
    fields: list[str] | None = None
    expand: str | list[str] | None = None


class CountBody(BaseModel):
    """POST /search/approximate-count body."""

    model_config = ConfigDict(extra="allow")

    jql: str = ""


def renderer(request: Request) -> Renderer:
    """A renderer whose `self` links point at this site."""
    state = state_of(request)
    base = state.config.public_url or str(request.base_url)
    cached = state.renderers.get(base)
    if cached is None:
        # One per base URL (a handful at most: the Host headers clients use).
        if len(state.renderers) > 16:
            state.renderers.clear()
        cached = state.renderers[base] = Renderer(state.dataset, base)
    return cached


def now_ms(request: Request) -> int:
    """The site's clock: the data set's anchor plus the time since start."""
    state = state_of(request)
    return state.dataset.anchor_ms + int((time.monotonic() - state.started) * 1000)


@router.get("/myself")
async def myself(request: Request, account: Authenticated) -> dict[str, Any]:
    """The authenticated user (works without Browse permission, as in Jira)."""
    state = state_of(request)
    body = renderer(request).user(state.user_for(account))
    return body | {
        "locale": "en_US",
        "groups": {"size": 1, "items": []},
        "applicationRoles": {"size": 1, "items": []},
        "expand": "groups,applicationRoles",
    }


@router.get("/project/search")
async def project_search(
    request: Request,
    _account: Browser,
    start_at: Annotated[int, Query(alias="startAt", ge=0)] = 0,
    max_results: Annotated[int, Query(alias="maxResults", ge=1)] = _DEFAULT_PAGE,
    query: str = "",
    keys: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    """Projects, paginated with startAt/maxResults/total/isLast."""
    render = renderer(request)
    max_results = min(max_results, 100)
    wanted = {key.upper() for chunk in keys or [] for key in chunk.split(",") if key}
    indices = [
        i
        for i, (key, name, _) in enumerate(render.dataset.projects)
        if (not wanted or key in wanted)
        and (not query or query.lower() in key.lower() or query.lower() in name.lower())
    ]
    page = indices[start_at : start_at + max_results]
    is_last = start_at + max_results >= len(indices)
    params: dict[str, Any] = {"startAt": start_at, "maxResults": max_results}
    url = f"{render.api}/project/search"
    body: dict[str, Any] = {"self": f"{url}?{urlencode(params)}"}
    if not is_last:
        params["startAt"] = start_at + max_results
        body["nextPage"] = f"{url}?{urlencode(params)}"
    return body | {
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(indices),
        "isLast": is_last,
        "values": [render.project(i, full=True) for i in page],
    }


@router.get("/issuetype")
async def issue_types(request: Request, _account: Browser) -> list[dict[str, Any]]:
    """Every issue type of the site."""
    render = renderer(request)
    return [render.issue_type(i) for i in range(len(ISSUE_TYPES))]


@router.get("/status")
async def statuses(request: Request, _account: Browser) -> list[dict[str, Any]]:
    """Every status of the site."""
    render = renderer(request)
    return [render.status(i) for i in range(len(STATUSES))]


def _search(
    request: Request, jql: str, token: str | None, max_results: int, fields: list[str]
) -> Response:
    state = state_of(request)
    if max_results < 0:
        raise JiraError(400, "The maxResults parameter must not be negative.")
    chosen = select_fields(fields, default=())
    cap = state.config.max_results_cap if chosen else _ID_ONLY_CAP
    size = max(1, min(max_results, cap))
    try:
        page = state.engine.page(jql, now_ms=now_ms(request), token=token, max_results=size)
    except JqlError as exc:
        raise JiraError(400, str(exc)) from exc
    render = renderer(request)
    state.stats.issues_served += len(page.issues)
    parts = ",".join(render.issue_json(issue, chosen) for issue in page.issues)
    tail: dict[str, Any] = {}
    if page.next_page_token is not None:
        tail["nextPageToken"] = page.next_page_token
    tail["isLast"] = page.next_page_token is None
    # Pages are joins of cached encoded issues: rendering is paid once per issue and selection.
    content = f'{{"issues":[{parts}],{encode(tail)[1:]}'
    return Response(content, media_type="application/json")


@router.get("/search/jql")
async def search_get(
    request: Request,
    _account: Browser,
    jql: str = "",
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
    max_results: Annotated[int, Query(alias="maxResults")] = _DEFAULT_PAGE,
    fields: Annotated[list[str] | None, Query()] = None,
) -> Response:
    """Enhanced JQL search, paged by an opaque nextPageToken."""
    return _search(request, jql, next_page_token, max_results, fields or [])


@router.post("/search/jql")
async def search_post(
    request: Request, _account: Browser, body: Annotated[SearchBody, Body()]
) -> Response:
    """The same search with the query in a JSON body."""
    return _search(request, body.jql, body.nextPageToken, body.maxResults, body.fields or [])


@router.post("/search/approximate-count")
async def approximate_count(
    request: Request, _account: Browser, body: Annotated[CountBody, Body()]
) -> dict[str, int]:
    """How many issues a bounded JQL query matches."""
    state = state_of(request)
    try:
        return {"count": state.engine.count(body.jql, now_ms=now_ms(request))}
    except JqlError as exc:
        raise JiraError(400, str(exc)) from exc
