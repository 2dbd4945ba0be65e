"""How fast fake-jira serves a full paged JQL search, against bare HTTP serving the same bytes.

Value: issues/s when paging 10,000 issues (100 per page, the fields itsm-sync asks for) through
`/rest/api/3/search/jql` with no rate limit. Baseline: the same client loop against a bare
Starlette app on the same uvicorn that answers every request with one pre-encoded page of the
same size, i.e. the cost of HTTP + JSON alone. A ratio near 1 means the emulator's own work
(auth, JQL, paging, rendering) is negligible; the import benchmark needs only 20 pages/s.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fake_jira.config import FakeJiraConfig
from fake_jira.testing import DEV_EMAIL, DEV_TOKEN, running_fake_jira_server

ISSUES = 10_000
FIELDS = "summary,description,status,issuetype,priority,project,created,updated,reporter,assignee"
JQL = "updated >= -90d ORDER BY updated ASC"
ROUNDS = 3


async def page_through(http: httpx.AsyncClient, path: str) -> int:
    """Follow nextPageToken to the end; return the number of issues seen."""
    params: dict[str, Any] = {"jql": JQL, "maxResults": 100, "fields": FIELDS}
    seen = 0
    while True:
        response = await http.get(path, params=params)
        response.raise_for_status()
        body = response.json()
        seen += len(body["issues"])
        if body["isLast"]:
            return seen
        params["nextPageToken"] = body["nextPageToken"]


@contextlib.asynccontextmanager
async def static_server(page: bytes, pages: int) -> AsyncIterator[str]:
    """A bare app answering `pages` copies of one page, the last one marked isLast."""
    served = 0
    last = page.replace(b'"isLast":false', b'"isLast":true')

    async def handler(_request: Request) -> Response:
        nonlocal served
        served += 1
        body = last if served % pages == 0 else page
        return Response(body, media_type="application/json")

    app = Starlette(routes=[Route("/page", handler)])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()  # start-up failed: raise its error
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def main() -> None:
    """Measure both loops in turn, best of a few rounds each, and print the RESULT line."""
    config = FakeJiraConfig(issues=ISSUES, days=90, accounts=f"{DEV_EMAIL}:{DEV_TOKEN}")
    async with (
        running_fake_jira_server(config) as jira,
        httpx.AsyncClient(base_url=jira.base_url, auth=(DEV_EMAIL, DEV_TOKEN)) as http,
    ):
        first = await http.get(
            "/rest/api/3/search/jql", params={"jql": JQL, "maxResults": 100, "fields": FIELDS}
        )
        sample = first.content
        value = 0.0
        for _ in range(ROUNDS):
            started = time.perf_counter()
            seen = await page_through(http, "/rest/api/3/search/jql")
            assert seen == ISSUES, seen
            value = max(value, seen / (time.perf_counter() - started))
    baseline = 0.0
    async with (
        static_server(sample, ISSUES // 100) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        for _ in range(ROUNDS):
            started = time.perf_counter()
            seen = await page_through(http, "/page")
            assert seen == ISSUES, seen
            baseline = max(baseline, seen / (time.perf_counter() - started))
    print(f"fake-jira served {value:.0f} issues/s; bare HTTP+JSON of the same pages {baseline:.0f}")
    print(
        f"RESULT fake_jira_paging value={value:.0f} baseline={baseline:.0f} "
        f"ratio={value / baseline:.2f} unit=issues/s"
    )


if __name__ == "__main__":
    asyncio.run(main())
