"""Tenant and role matrices over every route and the stream."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from rita_testing.stack import Stack
from tests.chaos.conftest import Row
from tests.chaos.harness import Api, Listener, eventually_true

READS = [
    ("GET", "/api/me"),
    ("GET", "/api/data-sources"),
    ("GET", "/api/data-sources/{id}"),
    ("GET", "/api/data-sources/{id}/ingestion-runs"),
    ("GET", "/api/data-sources/{id}/ingestion-runs/latest"),
    ("POST", "/api/events/token"),
]
WRITES = [
    ("PATCH", "/api/data-sources/{id}", {"description": "matrix"}),
    ("POST", "/api/data-sources/{id}/verify", {"settings": {}, "credentials": {}}),
    ("POST", "/api/data-sources/{id}/sync-tickets", {"time_range_days": 30}),
    ("POST", "/api/data-sources/{id}/cancel-ingestion", None),
]
ROW_ROUTES = {str(route[1]) for route in [*READS, *WRITES] if "{id}" in str(route[1])}


async def test_tenant_and_role_matrix_over_every_route_and_the_stream(
    stack_factory: Callable[..., Stack], chaos_row: Row
) -> None:
    stack = stack_factory()
    api_proc = await asyncio.to_thread(stack.start, "connections-api")
    gateway = await asyncio.to_thread(stack.start, "sse-gateway")
    owner, stranger = uuid.uuid4(), uuid.uuid4()
    async with (
        Api(api_proc.url, owner) as admin,
        Api(api_proc.url, owner, "member") as member,
        Api(api_proc.url, stranger) as other,
        httpx.AsyncClient(base_url=api_proc.url, timeout=30) as anonymous,
    ):
        row_id = (await admin.connection("jira_itsm"))["id"]
        other_row = (await other.connection("jira_itsm"))["id"]
        wrong: list[str] = []
        cells = 0

        def expect(who: str, method: str, path: str, got: int, allowed: set[int]) -> None:
            nonlocal cells
            cells += 1
            if got not in allowed:
                wrong.append(f"{who} {method} {path}: {got} not in {sorted(allowed)}")

        for method, template in READS:
            path = template.format(id=row_id)
            expect("admin", method, template, (await admin.call(method, path)).status_code, {200})
            expect("member", method, template, (await member.call(method, path)).status_code, {200})
            expect(
                "anonymous",
                method,
                template,
                (await anonymous.request(method, path)).status_code,
                {401},
            )
            if template in ROW_ROUTES:
                got = (await other.call(method, path)).status_code
                expect("other tenant", method, template, got, {404})
        for method, template, body in WRITES:
            path = template.format(id=row_id)
            kwargs: dict[str, Any] = {"json": body} if body is not None else {}
            got = (await member.call(method, path, **kwargs)).status_code
            expect("member", method, template, got, {403})
            got = (await other.call(method, path, **kwargs)).status_code
            expect("other tenant", method, template, got, {404})
            got = (await anonymous.request(method, path, **kwargs)).status_code
            expect("anonymous", method, template, got, {401})
            got = (await admin.call(method, path, **kwargs)).status_code
            expect("admin", method, template, got, set(range(200, 500)) - {401, 403, 404})

        # The stream: a tenant's token sees its own events and never another tenant's.
        mine = await Listener(gateway.url, await admin.events_token()).start()
        theirs = await Listener(gateway.url, await other.events_token()).start()
        assert (
            await other.call("PATCH", f"/api/data-sources/{other_row}", json={"description": "x"})
        ).status_code == 200
        assert (
            await admin.call("PATCH", f"/api/data-sources/{row_id}", json={"description": "y"})
        ).status_code == 200

        async def both_saw_their_own() -> bool:
            return bool(mine.data_frames()) and bool(theirs.data_frames())

        await eventually_true(both_saw_their_own, within=30)
        cells += 2
        if any(f.json().get("tenant_id") != str(owner) for f in mine.data_frames()):
            wrong.append("stream: the owner received another tenant's event")
        if any(f.json().get("tenant_id") != str(stranger) for f in theirs.data_frames()):
            wrong.append("stream: the stranger received the owner's event")
        no_token = await anonymous.get(f"{gateway.url}/events")
        cells += 1
        if no_token.status_code != 401:
            wrong.append(f"stream without a token: {no_token.status_code}")
        await mine.stop()
        await theirs.stop()
    assert wrong == []
    chaos_row(
        "tenant x role cells answered wrongly (routes and stream)", f"0 of {cells}", "0", met=True
    )
