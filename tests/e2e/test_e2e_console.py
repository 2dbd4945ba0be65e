"""The console against the whole running system: lists, verify (bad and good), import, cancel."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import JIRA_EMAIL, JIRA_TOKEN

if TYPE_CHECKING:
    from tests.e2e.conftest import System

CONFIG_HEADING = "Jira configuration"
# Records every value the progress bar shows, so the test can tell that it moved.
WATCH_PROGRESS = """() => {
  window.__progress = [];
  new MutationObserver(() => {
    const bar = document.querySelector('[role="progressbar"]');
    if (bar) window.__progress.push(bar.getAttribute('aria-valuetext'));
  }).observe(document.body,
    {subtree: true, childList: true, attributes: true, characterData: true});
}"""


def open_jira_form(page: Page, system: System) -> None:
    page.get_by_role("link", name="Open Jira").click()
    expect(page.get_by_role("heading", name="Connect Jira")).to_be_visible()
    page.get_by_label("Jira URL").fill(system.fake_jira_url)
    page.get_by_label("Email").fill(JIRA_EMAIL)


def verify_good_credentials(page: Page, system: System) -> None:
    open_jira_form(page, system)
    page.get_by_label("API Token").fill(JIRA_TOKEN)
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name=CONFIG_HEADING)).to_be_visible()


def test_itsm_list_shows_servicenow_jira_freshdesk_in_order_and_jira_not_in_knowledge(
    page: Page,
) -> None:
    itsm = page.get_by_test_id("itsm-list")
    expect(itsm.get_by_role("heading", level=3)).to_have_text(["ServiceNow", "Jira", "Freshdesk"])
    expect(itsm.get_by_text("Coming soon")).to_be_visible()
    expect(itsm.locator('[data-source="jira_itsm"] svg[data-icon="jira_itsm"]')).to_be_visible()
    page.get_by_role("link", name="Knowledge Sources").click()
    knowledge = page.get_by_test_id("knowledge-list")
    expect(knowledge.get_by_role("heading", level=3)).to_have_text(
        ["Confluence", "SharePoint", "ServiceNow", "Web Search", "Jira"]
    )
    expect(knowledge.locator('[data-source="jira_itsm"]')).to_have_count(0)


def test_bad_token_shows_authentication_failed_and_never_the_token(
    page: Page, system: System
) -> None:
    bad_token = "e2e-wrong-token-7f3a9c"
    open_jira_form(page, system)
    page.get_by_label("API Token").fill(bad_token)
    page.get_by_role("button", name="Verify").click()
    alert = page.get_by_test_id("verification-error")
    # itsm-sync's readable text for Jira's 401 (error code `auth_failed`).
    expect(alert).to_contain_text("Verification failed")
    expect(alert).to_contain_text(re.compile("rejected the email or API token", re.IGNORECASE))
    expect(page.get_by_label("API Token")).to_have_value("")
    assert bad_token not in page.content()
    assert bad_token not in page.inner_text("body")


def test_good_credentials_verify_live_then_30_day_import_completes(
    page: Page, system: System
) -> None:
    page.evaluate("() => { window.__sameDocument = true; }")
    verify_good_credentials(page, system)
    # Verified through SSE in the same document: no reload, no navigation away.
    assert page.evaluate("() => window.__sameDocument === true")
    expect(page.get_by_test_id("status-badge").first).to_have_text("Connected")
    # For a look by eye after a run (the console should read as a product, not raw HTML).
    page.screenshot(path=Path(tempfile.gettempdir()) / "rita-e2e-configuration.png", full_page=True)

    system.set_jira_latency(80)
    try:
        page.evaluate(WATCH_PROGRESS)
        page.get_by_label("Last 30 days").check()
        page.get_by_role("button", name="Import tickets").click()
        expect(page.get_by_role("button", name="Cancel")).to_be_visible()
        last_sync = page.get_by_test_id("last-sync-status")
        expect(last_sync).to_have_text("Completed", timeout=60_000)
    finally:
        system.set_jira_latency(0)
    records = int(page.get_by_test_id("last-sync-records").inner_text().split()[0])
    assert records > 0
    seen: list[str] = page.evaluate("() => window.__progress")
    assert any("tickets" in text for text in seen if text)
    expect(page.get_by_role("progressbar")).to_have_count(0)
    expect(page.get_by_role("button", name="Import tickets")).to_be_enabled()


def test_cancel_during_a_slow_import_ends_cancelled(page: Page, system: System) -> None:
    verify_good_credentials(page, system)
    system.set_jira_latency(700)
    try:
        page.get_by_label("Last 90 days").check()
        page.get_by_role("button", name="Import tickets").click()
        expect(page.get_by_role("progressbar")).to_be_visible()
        page.get_by_role("button", name="Cancel").click()
        expect(page.get_by_test_id("last-sync-status")).to_have_text("Cancelled")
    finally:
        system.set_jira_latency(0)
    expect(page.get_by_role("progressbar")).to_have_count(0)
    expect(page.get_by_role("button", name="Import tickets")).to_be_enabled()


def _tab_to(page: Page, predicate: str, limit: int = 40) -> None:
    """Press Tab until the focused element satisfies the JS `predicate(el)`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => ({predicate})(document.activeElement)"):
            return
    pytest.fail(f"focus never reached {predicate}")


def test_keyboard_only_open_form_fill_and_verify(page: Page, system: System) -> None:
    expect(page.get_by_test_id("itsm-list")).to_be_visible()
    _tab_to(page, "el => el.textContent.trim().startsWith('Open Jira')")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Connect Jira")).to_be_visible()
    _tab_to(page, "el => el.name === 'base_url'")
    page.keyboard.type(system.fake_jira_url)
    page.keyboard.press("Tab")
    page.keyboard.type(JIRA_EMAIL)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.type") == "password"
    page.keyboard.type(JIRA_TOKEN)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=CONFIG_HEADING)).to_be_visible()
    # The time range is a radio group: arrow keys move the choice.
    _tab_to(page, "el => el.type === 'radio' && el.value === '30'")
    page.keyboard.press("ArrowRight")
    expect(page.get_by_label("Last 60 days")).to_be_checked()


def test_client_side_validation_names_the_fields_without_a_request(page: Page) -> None:
    page.get_by_role("link", name="Open Jira").click()
    page.get_by_label("Jira URL").fill("not a url")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert").first).to_contain_text("correct the highlighted fields")
    expect(page.get_by_label("Jira URL")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Jira URL")).to_be_focused()
    expect(page.get_by_label("API Token")).to_have_attribute("aria-invalid", "true")
