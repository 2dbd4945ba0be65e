"""The console against the whole running system: lists, verify (bad and good), import, cancel."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import JIRA_EMAIL, JIRA_TOKEN, assert_accessible
from tests.e2e.helpers import (
    JIRA_CONFIG,
    import_tickets,
    jira_count,
    last_sync_records,
    open_jira_form,
    verify_good_jira,
    verify_jira,
)

if TYPE_CHECKING:
    from tests.e2e.conftest import Emulator

# Records every value the progress bar shows, so the test can tell that it moved.
WATCH_PROGRESS = """() => {
  window.__progress = [];
  new MutationObserver(() => {
    const bar = document.querySelector('[role="progressbar"]');
    if (bar) window.__progress.push(bar.getAttribute('aria-valuetext'));
  }).observe(document.body,
    {subtree: true, childList: true, attributes: true, characterData: true});
}"""


def test_itsm_list_shows_servicenow_jira_freshdesk_in_order_and_jira_not_in_knowledge(
    page: Page,
) -> None:
    itsm = page.get_by_test_id("itsm-list")
    expect(itsm.get_by_role("heading", level=3)).to_have_text(["ServiceNow", "Jira", "Freshdesk"])
    expect(itsm.get_by_text("Coming soon")).to_be_visible()
    expect(itsm.locator('[data-source="jira_itsm"] svg[data-icon="jira_itsm"]')).to_be_visible()
    expect(page).to_have_title("ITSM Sources · Connection Sources · Rita")
    assert_accessible(page, "ITSM list")
    page.get_by_role("link", name="Knowledge Sources").click()
    knowledge = page.get_by_test_id("knowledge-list")
    expect(knowledge.get_by_role("heading", level=3)).to_have_text(
        ["Confluence", "SharePoint", "ServiceNow", "Web Search", "Jira"]
    )
    expect(knowledge.locator('[data-source="jira_itsm"]')).to_have_count(0)
    assert_accessible(page, "knowledge list")


def test_bad_token_shows_authentication_failed_and_never_the_token(
    page: Page, fake_jira: Emulator
) -> None:
    bad_token = "e2e-wrong-token-7f3a9c"
    verify_jira(page, fake_jira, bad_token)
    alert = page.get_by_test_id("verification-error")
    # The console's sentence for `auth_failed`, then itsm-sync's readable text for Jira's 401.
    expect(alert).to_contain_text("Verification failed: Jira did not accept the credentials.")
    expect(alert).to_contain_text(re.compile("rejected the email or API token", re.IGNORECASE))
    expect(page.get_by_test_id("announcements")).to_contain_text("Jira verification failed")
    expect(page.get_by_label("API Token")).to_have_value("")
    assert bad_token not in page.content()
    assert bad_token not in page.inner_text("body")


def test_failed_first_verification_stays_on_the_form_even_after_a_reload(
    page: Page, fake_jira: Emulator
) -> None:
    verify_jira(page, fake_jira, "e2e-wrong-token-first")
    expect(page.get_by_test_id("verification-error")).to_be_visible()
    expect(page.get_by_role("button", name="Back to configuration")).to_have_count(0)
    page.reload()
    expect(page.get_by_role("heading", name="Connect Jira")).to_be_visible()
    expect(page.get_by_test_id("verification-error")).to_contain_text("did not accept")
    expect(page.get_by_role("button", name="Back to configuration")).to_have_count(0)
    expect(page.get_by_text("Last verified")).to_have_count(0)
    expect(page.get_by_role("heading", name=JIRA_CONFIG)).to_have_count(0)


def test_good_credentials_verify_live_then_30_day_import_completes(
    page: Page, fake_jira: Emulator
) -> None:
    page.evaluate("() => { window.__sameDocument = true; }")
    verify_good_jira(page, fake_jira)
    # Verified through SSE in the same document: no reload, no navigation away.
    assert page.evaluate("() => window.__sameDocument === true")
    expect(page.get_by_test_id("status-badge").first).to_have_text("Connected")
    expect(page.get_by_test_id("announcements")).to_contain_text("Jira verified")
    expect(page).to_have_title("Jira · Connection Sources · Rita")
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_contain_text("Jira")
    assert_accessible(page, "configuration")
    # For a look by eye after a run (the console should read as a product, not raw HTML).
    page.screenshot(path=Path(tempfile.gettempdir()) / "rita-e2e-configuration.png", full_page=True)

    # Hold the import after its first page: the progress bar is seen mid-way, on our signal.
    fake_jira.hold_pages_after(1)
    page.evaluate(WATCH_PROGRESS)
    import_tickets(page, 30)
    fake_jira.wait_held()
    expect(page.get_by_role("progressbar")).to_be_visible()
    assert_accessible(page, "import running")
    fake_jira.open_gate()
    expect(page.get_by_test_id("last-sync-status")).to_have_text("Completed", timeout=60_000)
    expected = jira_count(fake_jira, "updated >= -30d")
    assert expected > 0
    assert last_sync_records(page) == expected
    seen: list[str] = page.evaluate("() => window.__progress")
    assert any("tickets" in text for text in seen if text)
    expect(page.get_by_test_id("announcements")).to_contain_text(
        f"Import from Jira completed: {expected} tickets."
    )
    expect(page.get_by_role("progressbar")).to_have_count(0)
    expect(page.get_by_role("button", name="Import tickets")).to_be_enabled()


def test_cancel_while_the_emulator_holds_the_import_ends_cancelled(
    page: Page, fake_jira: Emulator
) -> None:
    verify_good_jira(page, fake_jira)
    fake_jira.hold_pages_after(1)
    import_tickets(page, 90)
    fake_jira.wait_held()
    expect(page.get_by_role("progressbar")).to_be_visible()
    page.get_by_role("button", name="Cancel").click()
    try:
        expect(page.get_by_test_id("last-sync-status")).to_have_text("Cancelled")
    finally:
        fake_jira.open_gate()
    expect(page.get_by_role("progressbar")).to_have_count(0)
    expect(page.get_by_role("button", name="Import tickets")).to_be_enabled()


def _tab_to(page: Page, predicate: str, limit: int = 40) -> None:
    """Press Tab until the focused element satisfies the JS `predicate(el)`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => ({predicate})(document.activeElement)"):
            return
    pytest.fail(f"focus never reached {predicate}")


def test_keyboard_only_open_form_fill_and_verify(page: Page, fake_jira: Emulator) -> None:
    expect(page.get_by_test_id("itsm-list")).to_be_visible()
    _tab_to(page, "el => el.textContent.trim().startsWith('Open Jira')")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Connect Jira")).to_be_visible()
    _tab_to(page, "el => el.name === 'base_url'")
    page.keyboard.type(fake_jira.url)
    page.keyboard.press("Tab")
    page.keyboard.type(JIRA_EMAIL)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.type") == "password"
    page.keyboard.type(JIRA_TOKEN)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=JIRA_CONFIG)).to_be_visible()
    # The time range is a radio group: arrow keys move the choice.
    _tab_to(page, "el => el.type === 'radio' && el.value === '30'")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_label("Last 60 days")).to_be_checked()


def test_client_side_validation_names_the_fields_without_a_request(
    page: Page, fake_jira: Emulator
) -> None:
    open_jira_form(page, fake_jira)
    page.get_by_label("Jira URL").fill("not a url")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert").first).to_contain_text("correct the highlighted fields")
    expect(page.get_by_label("Jira URL")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Jira URL")).to_be_focused()
    expect(page.get_by_label("API Token")).to_have_attribute("aria-invalid", "true")
    assert_accessible(page, "form with errors")


def test_server_validation_lands_on_the_field_and_keeps_the_token(page: Page) -> None:
    page.get_by_role("link", name="Open Jira").click()
    # Plain http to a host that is not on the allow-list: the API refuses it (unsafe_url).
    page.get_by_label("Jira URL").fill("http://jira.example.com")
    page.get_by_label("Email").fill(JIRA_EMAIL)
    page.get_by_label("API Token").fill("e2e-kept-token-1234")
    page.get_by_role("button", name="Verify").click()
    url = page.get_by_label("Jira URL")
    expect(url).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field-error")).to_contain_text("https")
    expect(page.locator(".field-error")).not_to_contain_text("base_url")
    expect(page.get_by_label("API Token")).to_have_value("e2e-kept-token-1234")
    assert "e2e-kept-token-1234" not in page.content()
    assert_accessible(page, "form with server errors")
