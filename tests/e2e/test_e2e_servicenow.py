"""ServiceNow through the same console as Jira: card, form, live verify, scoped import."""

from __future__ import annotations

from typing import TYPE_CHECKING

from playwright.sync_api import Page, expect

from tests.e2e.conftest import SERVICENOW_PASSWORD, SERVICENOW_USER, assert_accessible
from tests.e2e.helpers import SERVICENOW_CONFIG, import_tickets, last_sync_records, servicenow_count

if TYPE_CHECKING:
    from tests.e2e.conftest import Emulator


def test_servicenow_connect_verify_and_import_one_assignment_group(
    page: Page, fake_servicenow: Emulator
) -> None:
    page.get_by_role("link", name="Open ServiceNow").click()
    expect(page.get_by_role("heading", name="Connect ServiceNow")).to_be_visible()
    page.get_by_label("Instance URL").fill(fake_servicenow.url)
    page.get_by_label("User name").fill(SERVICENOW_USER)
    page.get_by_label("Password").fill(SERVICENOW_PASSWORD)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name=SERVICENOW_CONFIG)).to_be_visible()
    expect(page.get_by_test_id("status-badge").first).to_have_text("Connected")
    expect(page.get_by_test_id("announcements")).to_contain_text("ServiceNow verified")
    expect(page).to_have_title("ServiceNow · Connection Sources · Rita")
    assert_accessible(page, "ServiceNow configuration")

    page.get_by_label("Selected assignment groups").check()
    group = page.get_by_test_id("import-scope").get_by_role("checkbox").first
    group_id = group.get_attribute("value")
    assert group_id
    group.check()
    import_tickets(page, 30)
    expect(page.get_by_test_id("last-sync-status")).to_have_text("Completed", timeout=60_000)
    scoped = servicenow_count(fake_servicenow, 30, group_id)
    assert 0 < scoped < servicenow_count(fake_servicenow, 30)
    assert last_sync_records(page) == scoped
