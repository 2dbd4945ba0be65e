"""ServiceNow connector units: URL and query building, error mapping, keyset paging under churn.

The Table API is answered by a small in-memory table (`httpx.MockTransport`) that understands the
encoded-query subset the connector sends; the real-server tests run against fake-servicenow.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr

from contracts import ErrorCode, ServiceNowCredentials, SyncTicketsSettings
from itsm_sync.connectors.base import Refused, Site
from itsm_sync.connectors.errors import AuthFailed, Forbidden, NotTheSystem
from itsm_sync.connectors.http import RetryPolicy
from itsm_sync.connectors.servicenow import (
    ServiceNowClient,
    ServiceNowConnector,
    import_query,
    instance_base,
)
from itsm_sync.connectors.servicenow.connector import ServiceNowImporter
from itsm_sync.connectors.servicenow.tickets import incident_ticket
from rita_testing.helpers import PUBLIC_TEST_ADDRESS

FAST = RetryPolicy(max_retries=1, max_rate_limit_retries=3, max_backoff=0.01, base_backoff=0.001)
PASSWORD = "unit-test-password-4711"
START = datetime(2026, 11, 1, tzinfo=UTC)


def stamp(second: int) -> str:
    return (START + timedelta(seconds=second)).strftime("%Y-%m-%d %H:%M:%S")


class Table:
    """Incidents answered like the Table API (the subset of the encoded query the connector uses).

    `churn` incidents get `sys_updated_on = now` before every answer, `now` moving on one second
    per request, as an instance whose agents keep working during an import.
    """

    def __init__(self, incidents: int, *, churn: int = 0, same_second: bool = False) -> None:
        self.rows = {
            f"{i:032x}": {
                "sys_id": f"{i:032x}",
                "number": f"INC{i:07d}",
                "short_description": f"Printer {i} jammed",
                "state": "2",
                "priority": "3",
                "assignment_group": "grp-a" if i % 2 else "grp-b",
                "sys_created_on": stamp(0),
                "sys_updated_on": stamp(0 if same_second else i),
            }
            for i in range(incidents)
        }
        self.now = incidents + 1
        self.churn = churn
        self.queries: list[str] = []
        self.random = random.Random(7)

    def _match(self, row: dict[str, str], clause: str) -> bool:
        for op in (">=", "IN", ">", "="):
            field, found, wanted = clause.partition(op)
            if found and field.isidentifier():
                have = row[field]
                if op == ">=":
                    return have >= wanted
                if op == ">":
                    return have > wanted
                if op == "IN":
                    return have in wanted.split(",")
                return have == wanted
        raise AssertionError(f"unexpected clause {clause}")

    def answer(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/api/now/table/incident"
        for sys_id in self.random.sample(sorted(self.rows), min(self.churn, len(self.rows))):
            self.rows[sys_id]["sys_updated_on"] = stamp(self.now)
        self.now += 1
        query = request.url.params["sysparm_query"]
        self.queries.append(query)
        clauses = [c for c in query.split("^") if c]
        order = [c.removeprefix("ORDERBY") for c in clauses if c.startswith("ORDERBY")]
        # `^NQ` ORs whole queries; each is an AND of its clauses.
        alternatives = [
            [c for c in part.split("^") if c and not c.startswith("ORDERBY")]
            for part in query.split("^NQ")
        ]
        rows = [
            row
            for row in self.rows.values()
            if any(all(self._match(row, c) for c in part) for part in alternatives)
        ]
        rows.sort(key=lambda row: tuple(row[field] for field in order))
        limit = int(request.url.params["sysparm_limit"])
        result = [dict(row) for row in rows[:limit]]
        return httpx.Response(
            200, json={"result": result}, headers={"X-Total-Count": str(len(rows))}
        )


def client_for(handler: Callable[[httpx.Request], httpx.Response]) -> ServiceNowClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return ServiceNowClient(http, "https://acme.service-now.com", "rita", SecretStr(PASSWORD), FAST)


async def import_all(table: Table, size: int, query: str) -> tuple[list[str], int]:
    """Every sys_id the importer hands over, in order, and the number of pages."""
    importer = ServiceNowImporter(client_for(table.answer), query)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = await importer.page(cursor, size)
        pages += 1
        seen.extend(ticket["external_id"] for ticket in page.tickets)
        if page.cursor is None:
            return seen, pages
        cursor = page.cursor


@pytest.mark.parametrize(
    ("given", "base"),
    [
        ("https://acme.service-now.com/", "https://acme.service-now.com"),
        ("https://Acme.service-now.com/now/nav/ui/classic", "https://acme.service-now.com"),
        ("https://acme.service-now.com/incident_list.do?x=1#top", "https://acme.service-now.com"),
        ("http://127.0.0.1:8005/api", "http://127.0.0.1:8005"),
    ],
)
def test_instance_url_is_reduced_to_the_instance_base(given: str, base: str) -> None:
    assert instance_base(given) == base


def test_import_query_fixes_the_range_and_the_scope() -> None:
    now = datetime(2026, 11, 30, 12, 0, 5, tzinfo=UTC)
    assert import_query(now, 30, []) == "sys_updated_on>=2026-10-31 12:00:05"
    assert import_query(now, 1, ["a1", "b2"]) == (
        "sys_updated_on>=2026-11-29 12:00:05^assignment_groupINa1,b2"
    )
    with pytest.raises(Refused, match="sys_ids"):
        import_query(now, 1, ["a^ORDERBYnumber"])


def test_scope_comes_from_the_webhook_settings() -> None:
    connector = ServiceNowConnector()
    now = datetime(2026, 11, 30, tzinfo=UTC)
    everything = SyncTicketsSettings.model_validate({"time_range_days": 7})
    assert "assignment_group" not in connector.import_query(everything, now)
    empty = SyncTicketsSettings.model_validate({"time_range_days": 7, "assignment_group_ids": []})
    assert "assignment_group" not in connector.import_query(empty, now)
    scoped = SyncTicketsSettings.model_validate(
        {"time_range_days": 7, "assignment_group_ids": ["g1", "g1", "g2"]}
    )
    assert connector.import_query(scoped, now).endswith("^assignment_groupINg1,g2")
    wrong = SyncTicketsSettings.model_validate({"time_range_days": 7, "assignment_group_ids": "g1"})
    with pytest.raises(Refused, match="list"):
        connector.import_query(wrong, now)


def test_incident_becomes_a_ticket_with_readable_state_and_priority() -> None:
    record = {
        "sys_id": "abc",
        "number": "INC0010001",
        "short_description": "VPN down",
        "state": "6",
        "priority": "1",
        "category": "network",
        "assignment_group": "grp-a",
        "sys_updated_on": "2026-11-30 10:00:00",
        "caller_password": "never stored",
    }
    ticket = incident_ticket(record)
    assert ticket is not None
    assert (ticket["ticket_key"], ticket["status"], ticket["priority"]) == (
        "INC0010001",
        "Resolved",
        "Critical",
    )
    assert ticket["scope"] == "grp-a"
    assert ticket["source_updated"] == datetime(2026, 11, 30, 10, tzinfo=UTC)
    assert "caller_password" not in ticket["fields"]
    assert incident_ticket({"number": "INC1"}) is None


async def test_paging_without_changes_reads_each_incident_once_in_order() -> None:
    table = Table(250)
    seen, pages = await import_all(table, 100, "sys_updated_on>=2026-10-01 00:00:00")
    assert seen == sorted(table.rows)
    assert pages == 3
    assert all(query.endswith("^ORDERBYsys_updated_on^ORDERBYsys_id") for query in table.queries)


async def test_paging_under_churn_loses_nothing() -> None:
    # Offset paging loses records here; keyset paging reads every incident at least once and
    # every incident updated during the import again, with its newer values.
    table = Table(600, churn=15)
    seen, _ = await import_all(table, 50, "sys_updated_on>=2026-10-01 00:00:00")
    assert set(seen) == set(table.rows)
    reread = len(seen) - len(set(seen))
    assert 0 < reread <= table.churn * len(table.queries)


async def test_a_second_with_more_incidents_than_a_page_is_paged_by_sys_id() -> None:
    table = Table(230, same_second=True)
    seen, pages = await import_all(table, 50, "sys_updated_on>=2026-10-01 00:00:00")
    assert seen == sorted(table.rows)
    assert pages == 5
    assert table.queries[1] == (
        "sys_updated_on>=2026-10-01 00:00:00^sys_updated_on>2026-11-01 00:00:00"
        "^NQsys_updated_on>=2026-10-01 00:00:00^sys_updated_on=2026-11-01 00:00:00"
        f"^sys_id>{seen[49]}^ORDERBYsys_updated_on^ORDERBYsys_id"
    )


async def test_a_scoped_import_reads_only_the_chosen_groups() -> None:
    table = Table(100)
    query = "sys_updated_on>=2026-10-01 00:00:00^assignment_groupINgrp-a"
    seen, _ = await import_all(table, 30, query)
    assert seen == sorted(k for k, row in table.rows.items() if row["assignment_group"] == "grp-a")


def site_for(handler: Callable[[httpx.Request], httpx.Response]) -> Site:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return Site(http, frozenset(), FAST, resolver=lambda _host, _port: [PUBLIC_TEST_ADDRESS])


CREDENTIALS = ServiceNowCredentials(username="rita", password=SecretStr(PASSWORD))
SETTINGS = {"instance_url": "https://acme.service-now.com/now/nav/ui", "username": "rita"}


def instance(overrides: dict[str, httpx.Response] | None = None) -> Callable[..., httpx.Response]:
    """A healthy instance; `overrides` answers chosen tables differently."""

    def handler(request: httpx.Request) -> httpx.Response:
        table = request.url.path.rsplit("/", 1)[-1]
        if overrides and table in overrides:
            return overrides[table]
        if table == "sys_user":
            assert request.url.params["sysparm_query"] == "user_name=rita"
            return httpx.Response(200, json={"result": [{"sys_id": "u1", "user_name": "rita"}]})
        if table == "sys_user_group":
            groups = [{"sys_id": "g1", "name": "Service Desk"}, {"sys_id": "g2", "name": "Network"}]
            after = request.url.params["sysparm_query"].partition("sys_id>")[2].split("^")[0]
            page = [g for g in groups if g["sys_id"] > after]
            return httpx.Response(200, json={"result": page})
        return httpx.Response(
            200, json={"result": [{"sys_id": "i1"}]}, headers={"X-Total-Count": "42"}
        )

    return handler


async def test_verify_answers_groups_and_count_and_stores_the_base() -> None:
    verified = await ServiceNowConnector().verify(SETTINGS, CREDENTIALS, site_for(instance()))
    assert verified.base_url == "https://acme.service-now.com"
    assert verified.settings == {"instance_url": "https://acme.service-now.com", "username": "rita"}
    assert verified.options == {
        "assignment_groups": [
            {"id": "g2", "name": "Network"},
            {"id": "g1", "name": "Service Desk"},
        ],
        "incident_count": 42,
    }


@pytest.mark.parametrize(
    ("table", "answer", "error", "code", "text"),
    [
        ("sys_user", httpx.Response(401, json={"error": {}}), AuthFailed, "auth_failed", "401"),
        (
            "incident",
            httpx.Response(403, json={"error": {"message": "ACL"}}),
            Forbidden,
            "forbidden",
            "cannot read incidents",
        ),
        (
            "sys_user",
            httpx.Response(200, html="<html>login</html>"),
            NotTheSystem,
            "not_found",
            "html",
        ),
        ("sys_user", httpx.Response(200, json={"data": []}), NotTheSystem, "not_found", "result"),
        ("sys_user", httpx.Response(404, json={}), NotTheSystem, "not_found", "ServiceNow"),
    ],
)
async def test_verify_failures_are_readable_with_codes(
    table: str, answer: httpx.Response, error: type[Exception], code: str, text: str
) -> None:
    with pytest.raises(error, match=text) as caught:
        await ServiceNowConnector().verify(
            SETTINGS, CREDENTIALS, site_for(instance({table: answer}))
        )
    assert getattr(caught.value, "code", None) == ErrorCode(code)
    assert PASSWORD not in str(caught.value)


async def test_verify_refuses_a_private_instance_before_calling_it() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"result": []})

    settings = {"instance_url": "https://127.0.0.1/", "username": "rita"}
    with pytest.raises(Refused, match="may not be called") as caught:
        await ServiceNowConnector().verify(settings, CREDENTIALS, site_for(handler))
    assert caught.value.code == ErrorCode.UNREACHABLE
    assert calls == []


async def test_count_falls_back_to_the_stats_api() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/now/stats/incident":
            return httpx.Response(200, json={"result": {"stats": {"count": "17"}}})
        return httpx.Response(200, json={"result": []})

    assert await client_for(handler).count("incident", "active=true") == 17


async def test_a_page_of_bad_json_is_not_servicenow() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=b'{"result": [{"sys_id": ', headers={"content-type": "application/json"}
        )

    importer = ServiceNowImporter(client_for(handler), "sys_updated_on>=2026-10-01 00:00:00")
    with pytest.raises(NotTheSystem, match="invalid JSON") as caught:
        await importer.page(None, 100)
    assert caught.value.code == ErrorCode.NOT_FOUND
