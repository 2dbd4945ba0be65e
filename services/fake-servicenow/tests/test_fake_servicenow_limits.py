"""Burst limit (injected clock), faults, admin API, the gate, and churn while a client pages."""

from __future__ import annotations

import asyncio
import re

import httpx

from fake_servicenow.testing import DEV_PASSWORD, DEV_USER, running_fake_servicenow
from rita_testing import ManualClock

TABLE = "/api/now/table"
NOW = "2026-11-30T12:00:00Z"
AUTH = (DEV_USER, DEV_PASSWORD)


async def test_burst_limit_429_with_retry_after_and_refill_on_the_injected_clock() -> None:
    clock = ManualClock(1000.0)
    async with (
        running_fake_servicenow(incidents=20, rate_limit=0.5, burst=2, monotonic=clock) as snow,
        httpx.AsyncClient(base_url=snow.base_url, auth=AUTH) as http,
    ):
        first, second, third = [await http.get(f"{TABLE}/sys_user") for _ in range(3)]
        assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
        assert first.headers["X-RateLimit-Limit"] == "2"
        assert first.headers["X-RateLimit-Remaining"] == "1"
        assert re.fullmatch(r"[0-9a-f]{32}", first.headers["X-RateLimit-Rule"])
        assert third.headers["Retry-After"] == "2"  # one token at 0.5/s
        assert third.headers["X-RateLimit-Remaining"] == "0"
        assert third.json()["status"] == "failure"
        assert third.json()["error"]["message"] == "Too Many Requests"
        clock.now += 1.9
        assert (await http.get(f"{TABLE}/sys_user")).status_code == 429  # a 429 costs nothing
        clock.now += 0.1
        assert (await http.get(f"{TABLE}/sys_user")).status_code == 200
        stats = snow.stats()
        assert stats["rate_limited"] == 2
        assert stats["by_status"] == {"200": 3, "429": 2}


async def test_injected_faults_and_admin_config() -> None:
    async with (
        running_fake_servicenow(incidents=20, error_rate=1.0, error_statuses="503") as snow,
        httpx.AsyncClient(base_url=snow.base_url, auth=AUTH) as http,
    ):
        failed = await http.get(f"{TABLE}/incident")
        assert failed.status_code == 503
        assert failed.headers["Retry-After"] == "1"
        assert failed.json() == {
            "error": {"message": "Service Unavailable", "detail": None},
            "status": "failure",
        }
        changed = await http.patch("/_admin/config", json={"error_rate": 0, "rate_limit": 7})
        assert changed.json()["error_rate"] == 0
        assert changed.json()["burst"] == 7
        assert changed.json()["incidents"] == 20
        assert (await http.get(f"{TABLE}/incident")).status_code == 200
        assert snow.stats()["faults"] == 1
        assert snow.stats()["records_served"] == 20
        reset = (await http.post("/_admin/reset")).json()
        assert reset["requests"] == 0
        bad = await http.patch("/_admin/config", json={"error_statuses": [404]})
        assert bad.status_code == 422


async def test_gate_holds_incident_pages_until_released() -> None:
    async with (
        running_fake_servicenow(incidents=30) as snow,
        httpx.AsyncClient(base_url=snow.base_url, auth=AUTH) as http,
    ):
        closed = await http.post("/_admin/gate/close", json={"after": 1})
        assert closed.json() == {"closed": True, "allowance": 1, "waiting": 0, "held_total": 0}
        page: dict[str, str | int] = {"sysparm_limit": 10, "sysparm_fields": "number"}
        first = await http.get(f"{TABLE}/incident", params=page)
        assert len(first.json()["result"]) == 10
        # Other tables are never held: verification keeps working.
        assert (await http.get(f"{TABLE}/sys_user_group")).status_code == 200
        held = asyncio.create_task(
            http.get(f"{TABLE}/incident", params=page | {"sysparm_offset": 10})
        )
        waiting = await http.get("/_admin/gate/held", params={"count": 1, "timeout": 30})
        assert waiting.status_code == 200
        assert waiting.json()["waiting"] == 1
        assert not held.done()
        released = await http.post("/_admin/gate/release", json={"count": 1})
        assert released.json()["closed"] is True
        second = await held
        assert second.json()["result"][0]["number"] == "INC0010011"
        assert snow.state.core.gate.snapshot()["held_total"] == 1
        timed_out = await http.get("/_admin/gate/held", params={"count": 1, "timeout": 0.01})
        assert timed_out.status_code == 408
        opened = await http.post("/_admin/gate/open")
        assert opened.json()["closed"] is False


async def test_churn_moves_records_while_a_client_pages() -> None:
    """Offset paging over `ORDERBYsys_updated_on` loses records under churn; a keyset condition
    (`^NQ`) over (sys_updated_on, sys_id) loses none."""
    async with (
        running_fake_servicenow(incidents=200, seed=3, now=NOW) as snow,
        httpx.AsyncClient(base_url=snow.base_url, auth=AUTH) as http,
    ):
        setting = await http.put("/_admin/churn", json={"per_page": 5})
        assert setting.json() == {"per_page": 5, "churned_total": 0}
        base = "sys_updated_on>=2025-01-01 00:00:00"
        fields = "sys_id,sys_updated_on"
        wanted = {r["sys_id"] for r in snow.state.dataset.tables["incident"]}

        seen: set[str] = set()
        offset = 0
        while True:
            params: dict[str, str | int] = {
                "sysparm_query": f"{base}^ORDERBYsys_updated_on^ORDERBYsys_id",
                "sysparm_fields": fields,
                "sysparm_limit": 20,
                "sysparm_offset": offset,
            }
            rows = (await http.get(f"{TABLE}/incident", params=params)).json()["result"]
            seen |= {row["sys_id"] for row in rows}
            offset += 20
            if len(rows) < 20:
                break
        assert wanted - seen, "offset paging under churn should skip moved records"

        keyset_seen: list[str] = []
        mark: dict[str, str] | None = None
        pages = 0
        while True:
            condition = base
            if mark:
                stamp = mark["sys_updated_on"]
                condition = (
                    f"sys_updated_on>{stamp}^NQsys_updated_on={stamp}^sys_id>{mark['sys_id']}"
                )
            params = {
                "sysparm_query": f"{condition}^ORDERBYsys_updated_on^ORDERBYsys_id",
                "sysparm_fields": fields,
                "sysparm_limit": 20,
            }
            rows = (await http.get(f"{TABLE}/incident", params=params)).json()["result"]
            pages += 1
            keyset_seen += [row["sys_id"] for row in rows]
            if len(rows) < 20:
                break
            mark = rows[-1]
        assert set(keyset_seen) == wanted
        churn = (await http.get("/_admin/churn")).json()
        assert churn["churned_total"] == 5 * (pages + offset // 20)


async def test_churn_now_updates_records_and_queries_see_it() -> None:
    async with (
        running_fake_servicenow(incidents=50, now=NOW) as snow,
        httpx.AsyncClient(base_url=snow.base_url, auth=AUTH) as http,
    ):
        query = {"sysparm_query": "sys_updated_on>=2026-11-30 12:00:00", "sysparm_fields": "sys_id"}
        assert (await http.get(f"{TABLE}/incident", params=query)).json()["result"] == []
        changed = (await http.post("/_admin/churn", json={"count": 3})).json()["updated"]
        assert len(changed) == 3
        assert all(row["sys_updated_on"] >= "2026-11-30 12:00:00" for row in changed)
        rows = (await http.get(f"{TABLE}/incident", params=query)).json()["result"]
        assert sorted(row["sys_id"] for row in rows) == sorted(row["sys_id"] for row in changed)
        record = snow.state.lookup("incident", changed[0]["sys_id"])
        assert record is not None
        assert record["sys_updated_by"] == "system"
