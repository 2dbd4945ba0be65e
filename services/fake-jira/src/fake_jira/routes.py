"""The Jira Cloud REST endpoints, served under both `/rest/api/3` and `/rest/api/2`.

The two versions answer the same data; v2 renders rich text (description, comment bodies) as
plain strings where v3 uses the Atlassian Document Format. Searches: the enhanced, token-paged
`/search/jql` (Jira Cloud's current one) and the offset-paged `/search` (`startAt`, `total`;
what Jira Data Center, older clients and Airbyte use).
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from emulator.core import core_of
from fake_jira.dataset import ISSUE_TYPES, STATUSES, Issue
from fake_jira.guard import Authenticated, Browser, JiraError, state_of
from fake_jira.jql import JqlError
from fake_jira.render import ALL_FIELDS, NAVIGABLE, Renderer, encode, jira_time, select_fields

VERSIONS = (3, 2)
_DEFAULT_PAGE = 50
_ID_ONLY_CAP = 5000  # Jira serves the largest pages when only ids/keys are asked for
_NO_ISSUE = "Issue does not exist or you do not have permission to see it."
_BUILD = {"version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0], "buildNumber": 100285}


class SearchBody(BaseModel):
    """POST /search/jql body (unknown keys are accepted and ignored, as Jira does)."""

    model_config = ConfigDict(extra="allow")

    jql: str = ""
    nextPageToken: str | None = None  # noqa: N815 - Jira's wire name
    maxResults: int = _DEFAULT_PAGE  # noqa: N815
    fields: list[str] | None = None
    expand: str | list[str] | None = None


class OffsetSearchBody(BaseModel):
    """POST /search body (`validateQuery`, `fieldsByKeys`, `expand` accepted and ignored)."""

    model_config = ConfigDict(extra="allow")

    jql: str = ""
    startAt: int = 0  # noqa: N815 - Jira's wire name
    maxResults: int = _DEFAULT_PAGE  # noqa: N815
    fields: list[str] | None = None
    expand: str | list[str] | None = None


class CountBody(BaseModel):
    """POST /search/approximate-count body."""

    model_config = ConfigDict(extra="allow")

    jql: str = ""


def renderer(request: Request, version: int) -> Renderer:
    """A renderer whose `self` links point at this site and this API version."""
    state = state_of(request)
    base = state.config.public_url or str(request.base_url)
    cached = state.renderers.get((base, version))
    if cached is None:
        # One per base URL and version (a handful at most: the Host headers clients use).
        if len(state.renderers) > 16:
            state.renderers.clear()
        cached = state.renderers[base, version] = Renderer(state.dataset, base, version)
    return cached


def _page_size(request: Request, max_results: int, chosen: tuple[str, ...]) -> int:
    if max_results < 0:
        raise JiraError(400, "The maxResults parameter must not be negative.")
    cap = state_of(request).config.max_results_cap if chosen else _ID_ONLY_CAP
    return min(max_results, cap)


async def _token_search(
    request: Request,
    version: int,
    *,
    jql: str,
    token: str | None,
    max_results: int,
    fields: list[str],
) -> Response:
    state = state_of(request)
    chosen = select_fields(fields, default=())
    size = max(1, _page_size(request, max_results, chosen))
    await core_of(request).gate.passage()
    try:
        page = state.engine.page(jql, now_ms=state.now_ms(), token=token, max_results=size)
    except JqlError as exc:
        raise JiraError(400, str(exc)) from exc
    render = renderer(request, version)
    core_of(request).served(len(page.issues))
    parts = ",".join(render.issue_json(issue, chosen) for issue in page.issues)
    tail: dict[str, Any] = {}
    if page.next_page_token is not None:
        tail["nextPageToken"] = page.next_page_token
    tail["isLast"] = page.next_page_token is None
    # Pages are joins of cached encoded issues: rendering is paid once per issue and selection.
    content = f'{{"issues":[{parts}],{encode(tail)[1:]}'
    return Response(content, media_type="application/json")


async def _offset_search(
    request: Request,
    version: int,
    *,
    jql: str,
    start_at: int,
    max_results: int,
    fields: list[str],
) -> Response:
    state = state_of(request)
    if start_at < 0:
        raise JiraError(400, "The startAt parameter must not be negative.")
    chosen = select_fields(fields, default=NAVIGABLE)
    size = _page_size(request, max_results, chosen)
    await core_of(request).gate.passage()
    try:
        # Unbounded JQL is allowed here (the enhanced search refuses it); relative dates are
        # resolved against the clock of each request, as Jira does for offset paging.
        found = state.engine.results(state.engine.parse(jql, now_ms=state.now_ms()))
    except JqlError as exc:
        raise JiraError(400, str(exc)) from exc
    page = found[start_at : start_at + size]
    render = renderer(request, version)
    core_of(request).served(len(page))
    parts = ",".join(render.issue_json(issue, chosen) for issue in page)
    head = encode(
        {"expand": "schema,names", "startAt": start_at, "maxResults": size, "total": len(found)}
    )
    content = f'{head[:-1]},"issues":[{parts}]}}'
    return Response(content, media_type="application/json")


def _find_issue(request: Request, id_or_key: str) -> Issue:
    dataset = state_of(request).dataset
    wanted = id_or_key.strip().upper()
    if wanted.isdigit():
        index = int(wanted) - 10000
        if 0 <= index < len(dataset.issues):
            return dataset.issues[index]
    elif wanted in dataset.by_key:
        return dataset.by_key[wanted]
    raise JiraError(404, _NO_ISSUE)


def api_router(version: int) -> APIRouter:  # noqa: PLR0915 - one nested function per endpoint
    """Every endpoint of one API version."""
    router = APIRouter(prefix=f"/rest/api/{version}")

    @router.get("/serverInfo")
    async def server_info(request: Request) -> dict[str, Any]:
        """The site's identity (no authentication needed, as on Jira Cloud)."""
        state = state_of(request)
        base = renderer(request, version).base
        return {
            "baseUrl": base,
            **_BUILD,
            "deploymentType": "Cloud",
            "buildDate": "2026-11-25T08:01:49.000+0000",
            "serverTime": jira_time(state.now_ms()),
            "scmInfo": "0000000000000000000000000000000000000000",
            "serverTitle": "Jira",
            "defaultLocale": {"locale": "en_US"},
        }

    @router.get("/myself")
    async def myself(request: Request, account: Authenticated) -> dict[str, Any]:
        """The authenticated user (works without Browse permission, as in Jira)."""
        body = renderer(request, version).user(state_of(request).user_for(account))
        return body | {
            "locale": "en_US",
            "groups": {"size": 1, "items": []},
            "applicationRoles": {"size": 1, "items": []},
            "expand": "groups,applicationRoles",
        }

    @router.get("/project")
    async def projects(request: Request, _account: Browser) -> list[dict[str, Any]]:
        """Every project, unpaged (deprecated in Jira Cloud, still what many clients call)."""
        render = renderer(request, version)
        return [render.project_detail(i) for i in range(len(render.dataset.projects))]

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
        render = renderer(request, version)
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

    @router.get("/project/{project_id_or_key}")
    async def project(
        request: Request, project_id_or_key: str, _account: Browser
    ) -> dict[str, Any]:
        """One project by key or id."""
        render = renderer(request, version)
        index = render.dataset.project_index(project_id_or_key)
        if index is None:
            raise JiraError(404, f"No project could be found with key '{project_id_or_key}'.")
        return render.project_detail(index)

    @router.get("/field")
    async def fields(request: Request, _account: Authenticated) -> list[dict[str, Any]]:
        """Every field (system fields only: the emulator has no custom fields)."""
        return renderer(request, version).fields_catalogue()

    @router.get("/issuetype")
    async def issue_types(request: Request, _account: Browser) -> list[dict[str, Any]]:
        """Every issue type of the site."""
        render = renderer(request, version)
        return [render.issue_type(i) for i in range(len(ISSUE_TYPES))]

    @router.get("/status")
    async def statuses(request: Request, _account: Browser) -> list[dict[str, Any]]:
        """Every status of the site."""
        render = renderer(request, version)
        return [render.status(i) for i in range(len(STATUSES))]

    @router.get("/issue/{issue_id_or_key}")
    async def issue(
        request: Request,
        issue_id_or_key: str,
        _account: Browser,
        fields: Annotated[list[str] | None, Query()] = None,
    ) -> Response:
        """One issue by key or id; every field unless `fields` narrows it."""
        found = _find_issue(request, issue_id_or_key)
        chosen = select_fields(fields or [], default=ALL_FIELDS)
        core_of(request).served(1)
        content = renderer(request, version).issue_json(found, chosen)
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
        return await _token_search(
            request,
            version,
            jql=jql,
            token=next_page_token,
            max_results=max_results,
            fields=fields or [],
        )

    @router.post("/search/jql")
    async def search_post(
        request: Request, _account: Browser, body: Annotated[SearchBody, Body()]
    ) -> Response:
        """The same search with the query in a JSON body."""
        return await _token_search(
            request,
            version,
            jql=body.jql,
            token=body.nextPageToken,
            max_results=body.maxResults,
            fields=body.fields or [],
        )

    @router.get("/search")
    async def offset_search_get(
        request: Request,
        _account: Browser,
        jql: str = "",
        start_at: Annotated[int, Query(alias="startAt")] = 0,
        max_results: Annotated[int, Query(alias="maxResults")] = _DEFAULT_PAGE,
        fields: Annotated[list[str] | None, Query()] = None,
    ) -> Response:
        """Offset-paged search: `startAt`, `maxResults`, `total` (default fields: navigable)."""
        return await _offset_search(
            request,
            version,
            jql=jql,
            start_at=start_at,
            max_results=max_results,
            fields=fields or [],
        )

    @router.post("/search")
    async def offset_search_post(
        request: Request, _account: Browser, body: Annotated[OffsetSearchBody, Body()]
    ) -> Response:
        """The offset-paged search with the query in a JSON body."""
        return await _offset_search(
            request,
            version,
            jql=body.jql,
            start_at=body.startAt,
            max_results=body.maxResults,
            fields=body.fields or [],
        )

    @router.post("/search/approximate-count")
    async def approximate_count(
        request: Request, _account: Browser, body: Annotated[CountBody, Body()]
    ) -> dict[str, int]:
        """How many issues a bounded JQL query matches."""
        state = state_of(request)
        try:
            return {"count": state.engine.count(body.jql, now_ms=state.now_ms())}
        except JqlError as exc:
            raise JiraError(400, str(exc)) from exc

    return router
