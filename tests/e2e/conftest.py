"""The whole system as real processes on free loopback ports, plus a headless Chromium.

One session fixture starts status-consumer, sse-gateway, itsm-sync, connections-api (dev mode,
a short VERIFY_TIMEOUT and a fast reaper) and `vite preview` of a fresh build of web/, over the
session's own databases, queue and Redis prefix, as one `rita_testing.stack.Stack` (the launcher
of the chaos and tracing suites), and waits until each is ready. Each test gets a page signed
in as a tenant of its own and, when it needs one, an emulator of its own (fake-jira,
fake-servicenow): tests share the Rita processes but never each other's rows, latency, gate or
rate-limit bucket.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from rita_testing.stack import PORT_ARG, Stack, stack_secrets

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
BIN = Path(sys.executable).parent
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
JIRA_EMAIL = "admin@example.com"
JIRA_TOKEN = "fake-jira-token-e2e"
SERVICENOW_USER = "admin"
SERVICENOW_PASSWORD = "fake-servicenow-password-e2e"
# The API ends a verification that got no result within this many seconds (`verification_timeout`).
VERIFY_TIMEOUT_SECONDS = 12
AXE = WEB / "node_modules" / "axe-core" / "axe.min.js"


@dataclass
class System:
    """The running system (one Stack) and a way to sign a browser in as a fresh tenant."""

    stack: Stack

    @property
    def web_url(self) -> str:
        return self.stack.procs["web"].url

    @property
    def api_url(self) -> str:
        return self.stack.procs["connections-api"].url

    def dev_token(self, tenant_id: uuid.UUID, role: str = "admin") -> str:
        """A token for `tenant_id` with `role` from the API's dev-mode endpoint."""
        response = httpx.post(
            f"{self.api_url}/api/dev/token",
            json={"tenant_id": str(tenant_id), "role": role},
            timeout=10,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])


@dataclass
class Emulator:
    """One test's own emulator process and its admin API (latency, gate, counts)."""

    url: str
    auth: tuple[str, str]

    def admin(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        response = httpx.request(method, f"{self.url}/_admin/{path}", timeout=60, **kwargs)  # type: ignore[arg-type]
        response.raise_for_status()
        return response

    def set_latency(self, latency_ms: int) -> None:
        self.admin("PATCH", "config", json={"latency_ms": latency_ms})

    def hold_pages_after(self, pages: int) -> None:
        """Let `pages` import pages through, then hold the next ones until `open_gate`."""
        self.admin("POST", "gate/close", json={"after": pages})

    def wait_held(self) -> None:
        """Return once a page is held at the gate (the import is mid-way, waiting on us)."""
        self.admin("GET", "gate/held", params={"count": 1, "timeout": 45})

    def open_gate(self) -> None:
        self.admin("POST", "gate/open")


def _build_web(out_dir: Path) -> None:
    if not (WEB / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=WEB, check=True)
    subprocess.run(
        [str(WEB / "node_modules" / ".bin" / "vite"), "build", "--outDir", str(out_dir)],
        cwd=WEB,
        check=True,
        capture_output=True,
    )


def _migrate_itsm_sync(url: str) -> None:
    subprocess.run([str(BIN / "itsm-sync-migrate"), url], check=True, capture_output=True)


@pytest.fixture(scope="session")
def system(
    rita_database_url: str,
    database_factory: Callable[[str], str],
    rabbitmq_url: str,
    redis_url: str,
    session_queue_name: str,
    session_redis_prefix: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[System]:
    """Every service and the console, ready; stopped and cleaned up at the end."""
    sync_db = database_factory("itsm_sync")
    _migrate_itsm_sync(sync_db)
    dist = tmp_path_factory.mktemp("web") / "dist"
    _build_web(dist)
    stack = Stack(
        env={
            **stack_secrets(),
            "LOG_FORMAT": "json",
            "DATABASE_URL": rita_database_url,
            "ITSM_SYNC_DATABASE_URL": sync_db,
            "REDIS_URL": redis_url,
            "RABBITMQ_URL": rabbitmq_url,
            "STATUS_QUEUE": session_queue_name,
            "EVENTS_KEY_PREFIX": session_redis_prefix,
            # Every test starts its own emulators on loopback ports: allow the host, any port.
            "JIRA_ALLOWED_PRIVATE_HOSTS": "127.0.0.1",
            "ALLOWED_PRIVATE_HOSTS": "127.0.0.1",
        }
    )
    try:
        for name in ("status-consumer", "sse-gateway"):
            stack.start(name, wait=False)
        # Small pages: an import of a few hundred tickets reports progress several times.
        sync = stack.start("itsm-sync", env={"ITSM_SYNC_PAGE_SIZE": "20"}, wait=False)
        api_env = {
            "AUTH_DEV_MODE": "true",
            "SYNC_WEBHOOK_URL": f"{sync.url}/webhook",
            "OUTBOX_POLL_INTERVAL": "0.2",
            "VERIFY_TIMEOUT": str(VERIFY_TIMEOUT_SECONDS),
            "REAPER_INTERVAL": "1",
        }
        api = stack.start("connections-api", env=api_env, wait=False)
        stack.start(
            "web",
            WEB / "node_modules" / ".bin" / "vite",
            {"RITA_API_URL": api.url, "RITA_EVENTS_URL": stack.procs["sse-gateway"].url},
            # vite reads vite.config.ts (the proxy) from its working directory.
            args=[
                "preview",
                "--outDir",
                dist,
                "--port",
                PORT_ARG,
                "--strictPort",
                "--host",
                "127.0.0.1",
            ],
            cwd=WEB,
            ready_path="/",
            wait=False,
        )
        stack.wait_ready()
        yield System(stack)
    finally:
        stack.close()


@pytest.fixture(scope="module")
def browser(system: System) -> Iterator[Browser]:
    """Debian's Chromium, headless (never a downloaded browser build).

    Started after `system` (and so stopped before it): Playwright's sync API keeps an event loop
    running in this thread, and the system's set-up and clean-up run their own. Module scope:
    the loop ends with the browser tests, so async tests collected after them still run.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make install` (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _emulator(
    system: System, name: str, env: dict[str, str], auth: tuple[str, str]
) -> Iterator[Emulator]:
    """`name` (a console script) as this test's own process in the system's Stack."""
    proc_name = f"{name}-{uuid.uuid4().hex[:8]}"
    proc = system.stack.start(proc_name, name, env)
    try:
        yield Emulator(proc.url, auth)
    finally:
        system.stack.kill(proc_name, signal.SIGTERM)


@pytest.fixture
def fake_jira(system: System) -> Iterator[Emulator]:
    """A fake-jira of this test's own (300 issues over a year, 4 projects)."""
    env = {"FAKE_JIRA_ACCOUNTS": f"{JIRA_EMAIL}:{JIRA_TOKEN}", "FAKE_JIRA_ISSUES": "300"}
    yield from _emulator(system, "fake-jira", env, (JIRA_EMAIL, JIRA_TOKEN))


@pytest.fixture
def fake_servicenow(system: System) -> Iterator[Emulator]:
    """A fake-servicenow of this test's own (300 incidents over a year, 6 groups)."""
    env = {
        "FAKE_SERVICENOW_ACCOUNTS": f"{SERVICENOW_USER}:{SERVICENOW_PASSWORD}",
        "FAKE_SERVICENOW_INCIDENTS": "300",
    }
    yield from _emulator(system, "fake-servicenow", env, (SERVICENOW_USER, SERVICENOW_PASSWORD))


@pytest.fixture
def tenant_id() -> uuid.UUID:
    """A tenant of this test's own: the API creates its default rows on the first list read."""
    return uuid.uuid4()


@pytest.fixture
def page(system: System, browser: Browser, tenant_id: uuid.UUID) -> Iterator[Page]:
    """A page signed in as an admin of `tenant_id`, on the ITSM list."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    token = system.dev_token(tenant_id)
    page.goto(f"{system.web_url}/settings/connections/itsm?token={token}")
    yield page
    context.close()


def assert_accessible(page: Page, state: str) -> None:
    """axe-core (injected from web/node_modules) finds no violation at all.

    The bar asked for is no serious or critical one; the console meets every rule, so any new
    finding (moderate ones such as heading order or landmarks included) fails here.
    """
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ['violations']});
            return r.violations
              .map(v => `${v.id} (${v.impact}): ` +
                v.nodes.map(n => n.target.join(' ')).join(', '));
        }"""
    )
    assert result == [], f"axe on {state}: {result}"
