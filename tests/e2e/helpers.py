"""Steps and emulator counts the browser tests share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
from playwright.sync_api import Page, expect

from tests.e2e.conftest import JIRA_EMAIL, JIRA_TOKEN

if TYPE_CHECKING:
    from tests.e2e.conftest import Emulator

JIRA_CONFIG = "Jira configuration"
SERVICENOW_CONFIG = "ServiceNow configuration"


def open_jira_form(page: Page, jira: Emulator) -> None:
    page.get_by_role("link", name="Open Jira").click()
    expect(page.get_by_role("heading", name="Connect Jira")).to_be_visible()
    page.get_by_label("Jira URL").fill(jira.url)
    page.get_by_label("Email").fill(JIRA_EMAIL)


def verify_jira(page: Page, jira: Emulator, token: str = JIRA_TOKEN) -> None:
    """Fill the Jira form and click Verify (the result arrives by SSE)."""
    open_jira_form(page, jira)
    page.get_by_label("API Token").fill(token)
    page.get_by_role("button", name="Verify").click()


def verify_good_jira(page: Page, jira: Emulator) -> None:
    verify_jira(page, jira)
    expect(page.get_by_role("heading", name=JIRA_CONFIG)).to_be_visible()


def import_tickets(page: Page, days: int) -> None:
    page.get_by_label(f"Last {days} days").check()
    page.get_by_role("button", name="Import tickets").click()
    expect(page.get_by_role("button", name="Cancel")).to_be_visible()


def last_sync_records(page: Page) -> int:
    return int(page.get_by_test_id("last-sync-records").inner_text().split()[0])


def jira_count(jira: Emulator, jql: str) -> int:
    """What the emulator itself counts for a JQL (Jira's approximate-count, exact on fake-jira)."""
    response = httpx.post(
        f"{jira.url}/rest/api/3/search/approximate-count",
        json={"jql": jql},
        auth=jira.auth,
        timeout=30,
    )
    response.raise_for_status()
    return int(response.json()["count"])


def servicenow_count(snow: Emulator, days: int, group_id: str | None = None) -> int:
    """Incidents updated in the last `days` days (optionally of one group), by the stats API."""
    start = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")
    query = f"sys_updated_on>={start}" + (f"^assignment_group={group_id}" if group_id else "")
    response = httpx.get(
        f"{snow.url}/api/now/stats/incident",
        params={"sysparm_count": "true", "sysparm_query": query},
        auth=snow.auth,
        timeout=30,
    )
    response.raise_for_status()
    return int(response.json()["result"]["stats"]["count"])
