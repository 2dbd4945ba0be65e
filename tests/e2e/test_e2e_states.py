"""The states just off the happy path: member, reload mid-import, scope, timeout, paused stream."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

import httpx
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import JIRA_EMAIL, JIRA_TOKEN, VERIFY_TIMEOUT_SECONDS, assert_accessible
from tests.e2e.helpers import (
    JIRA_CONFIG,
    import_tickets,
    jira_count,
    last_sync_records,
    verify_good_jira,
    verify_jira,
)

if TYPE_CHECKING:
    from tests.e2e.conftest import Emulator, System


def test_member_sees_every_card_and_a_read_only_configuration(
    system: System, browser: Browser, tenant_id: uuid.UUID
) -> None:
    # A member's first visit to a brand-new tenant: the API creates the default rows.
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    try:
        token = system.dev_token(tenant_id, role="member")
        page.goto(f"{system.web_url}/settings/connections/itsm?token={token}")
        itsm = page.get_by_test_id("itsm-list")
        expect(itsm.get_by_role("heading", level=3)).to_have_text(
            ["ServiceNow", "Jira", "Freshdesk"]
        )
        expect(page.get_by_test_id("signed-in-as")).to_contain_text("(member)")
        page.get_by_role("link", name="Open Jira").click()
        expect(page.get_by_role("heading", name=JIRA_CONFIG)).to_be_visible()
        expect(page.get_by_role("heading", name="Connect Jira")).to_have_count(0)
        expect(page.get_by_role("textbox")).to_have_count(0)
        reason = page.get_by_test_id("read-only-reason")
        expect(reason).to_contain_text("Only owners and admins")
        expect(page.get_by_role("button", name="Import tickets")).to_be_disabled()
        expect(page.get_by_role("button", name="Edit credentials")).to_be_disabled()
        assert_accessible(page, "member view")
    finally:
        context.close()


def test_reload_mid_import_shows_its_range_and_keeps_the_previous_result(
    page: Page, fake_jira: Emulator
) -> None:
    verify_good_jira(page, fake_jira)
    import_tickets(page, 30)
    expect(page.get_by_test_id("last-sync-status")).to_have_text("Completed", timeout=60_000)
    first = last_sync_records(page)
    assert first == jira_count(fake_jira, "updated >= -30d")

    fake_jira.hold_pages_after(1)
    import_tickets(page, 90)
    try:
        fake_jira.wait_held()
        # While the 90-day import runs, Last sync still shows the 30-day result.
        expect(page.get_by_test_id("last-sync-records")).to_have_text(str(first))
        expect(page.get_by_test_id("last-sync-range")).to_have_text("Last 30 days")
        page.reload()
        expect(page.get_by_role("progressbar")).to_be_visible()
        expect(page.get_by_label("Last 90 days")).to_be_checked()
        expect(page.get_by_test_id("active-range")).to_contain_text("last 90 days")
        expect(page.get_by_test_id("last-sync-records")).to_have_text(str(first))
        # A second tab sees the same.
        other = page.context.new_page()
        other.goto(page.url)
        expect(other.get_by_label("Last 90 days")).to_be_checked()
        expect(other.get_by_test_id("last-sync-range")).to_have_text("Last 30 days")
        other.close()
    finally:
        fake_jira.open_gate()
    expect(page.get_by_test_id("last-sync-range")).to_have_text("Last 90 days", timeout=60_000)
    expect(page.get_by_test_id("last-sync-status")).to_have_text("Completed")
    assert last_sync_records(page) == jira_count(fake_jira, "updated >= -90d")


def test_scoped_jira_import_takes_only_the_selected_project(
    page: Page, fake_jira: Emulator
) -> None:
    verify_good_jira(page, fake_jira)
    page.get_by_label("Selected projects").check()
    first = page.get_by_test_id("import-scope").get_by_role("checkbox").first
    key = first.get_attribute("value")
    assert key
    first.check()
    import_tickets(page, 30)
    expect(page.get_by_test_id("last-sync-status")).to_have_text("Completed", timeout=60_000)
    scoped = jira_count(fake_jira, f'project in ("{key}") AND updated >= -30d')
    everything = jira_count(fake_jira, "updated >= -30d")
    assert 0 < scoped < everything
    assert last_sync_records(page) == scoped
    # The choice is stored: a reload shows it.
    page.reload()
    expect(page.get_by_label("Selected projects")).to_be_checked()
    expect(page.get_by_test_id("import-scope").locator(f'input[value="{key}"]')).to_be_checked()


def test_verification_without_an_answer_times_out_and_can_be_retried(
    page: Page, fake_jira: Emulator
) -> None:
    # Jira answers nothing for a minute: itsm-sync stays silent past the API's VERIFY_TIMEOUT.
    fake_jira.set_latency(60_000)
    verify_jira(page, fake_jira)
    status = page.get_by_test_id("verify-status")
    expect(status).to_contain_text("Still waiting for Jira", timeout=20_000)
    # Verify stays available while waiting.
    expect(page.get_by_role("button", name="Verify")).to_be_enabled()
    alert = page.get_by_test_id("verification-error")
    expect(alert).to_contain_text(
        "No answer came from the sync service in time", timeout=(VERIFY_TIMEOUT_SECONDS + 30) * 1000
    )
    expect(page.get_by_role("heading", name="Connect Jira")).to_be_visible()
    # Jira answers again: the admin verifies again and gets the configuration.
    fake_jira.set_latency(0)
    page.get_by_label("API Token").fill(JIRA_TOKEN)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name=JIRA_CONFIG)).to_be_visible(timeout=30_000)


def test_live_updates_paused_refreshes_every_10_s_until_the_stream_is_back(
    page: Page, system: System, fake_jira: Emulator, tenant_id: uuid.UUID
) -> None:
    expect(page.get_by_test_id("live-state")).to_have_text("Live updates on")
    # The stream cannot be opened any more (and the open one is cut by a reload).
    page.route(re.compile(r".*/events\?.*"), lambda route: route.abort())
    page.reload()
    expect(page.get_by_test_id("live-state")).to_contain_text("Live updates paused")
    badge = page.locator('[data-source="jira_itsm"]').get_by_test_id("status-badge")
    expect(badge).to_have_text("Not connected")
    # A change made elsewhere (here: the API, as another admin would) shows without the stream.
    token = system.dev_token(tenant_id)
    headers = {"Authorization": f"Bearer {token}"}
    rows = httpx.get(
        f"{system.api_url}/api/data-sources", params={"category": "itsm"}, headers=headers
    ).json()["data"]
    jira = next(row for row in rows if row["type"] == "jira_itsm")
    httpx.post(
        f"{system.api_url}/api/data-sources/{jira['id']}/verify",
        headers=headers,
        json={
            "settings": {"base_url": fake_jira.url, "email": JIRA_EMAIL},
            "credentials": {"email": JIRA_EMAIL, "api_token": JIRA_TOKEN},
        },
        timeout=30,
    ).raise_for_status()
    expect(badge).to_have_text("Connected", timeout=30_000)
    expect(page.get_by_test_id("live-state")).to_contain_text("Live updates paused")
    page.unroute(re.compile(r".*/events\?.*"))
    expect(page.get_by_test_id("live-state")).to_have_text("Live updates on", timeout=40_000)
