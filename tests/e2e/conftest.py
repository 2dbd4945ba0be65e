"""The whole system as real processes on free loopback ports, plus a headless Chromium.

One session fixture starts fake-jira, status-consumer, sse-gateway, itsm-sync, connections-api
(dev mode) and `vite preview` of a fresh build of web/, each with its own database, queue and Redis
prefix, and waits for every `/readyz`. Each test gets a page signed in as a tenant of its own, so
tests share the processes but never each other's rows.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

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
READY_TIMEOUT = 90.0


def free_port() -> int:
    """A port nobody listens on right now (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Proc:
    """A started service: its process, log file and readiness URL."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    ready_url: str

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class System:
    """URLs of the running system and a way to sign a browser in as a fresh tenant."""

    web_url: str
    api_url: str
    fake_jira_url: str
    procs: list[Proc] = field(default_factory=list)

    def dev_token(self, tenant_id: uuid.UUID) -> str:
        """An admin token for `tenant_id` from the API's dev-mode endpoint."""
        response = httpx.post(
            f"{self.api_url}/api/dev/token", json={"tenant_id": str(tenant_id)}, timeout=10
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def set_jira_latency(self, latency_ms: int) -> None:
        """fake-jira's per-request latency (its admin API)."""
        response = httpx.patch(
            f"{self.fake_jira_url}/_admin/config", json={"latency_ms": latency_ms}, timeout=10
        )
        response.raise_for_status()


def _start(name: str, args: list[str], env: dict[str, str], ready_url: str, logs: Path) -> Proc:
    log = logs / f"{name}.log"
    # vite reads vite.config.ts (the proxy) from its working directory.
    cwd = WEB if name == "web" else ROOT
    with log.open("wb") as out:
        process = subprocess.Popen(
            args, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, cwd=cwd
        )
    return Proc(name, process, log, ready_url)


def _wait_ready(procs: list[Proc]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    pending = list(procs)
    with httpx.Client(timeout=2) as client:
        while pending:
            for proc in list(pending):
                if proc.process.poll() is not None:
                    pytest.fail(f"{proc.name} exited during start-up:\n{proc.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(proc.ready_url).status_code == 200:
                        pending.remove(proc)
            if pending and time.monotonic() > deadline:
                names = ", ".join(p.name for p in pending)
                pytest.fail(f"not ready after {READY_TIMEOUT}s: {names}\n{pending[0].tail()}")
            if pending:
                time.sleep(0.2)


def _stop(procs: list[Proc]) -> None:
    for proc in procs:
        if proc.process.poll() is None:
            proc.process.terminate()
    for proc in procs:
        try:
            proc.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.process.kill()
            proc.process.wait()


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
    subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=ROOT / "services" / "itsm-sync",
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="session")
def system(
    rita_database_url: str,
    database_factory: Callable[[str], str],
    rabbitmq_url: str,
    redis_url: str,
    session_queue_name: str,
    session_redis_prefix: str,
) -> Iterator[System]:
    """Every service and the console, ready; stopped and cleaned up at the end."""
    queue, prefix = session_queue_name, session_redis_prefix
    sync_db = database_factory("itsm_sync")
    _migrate_itsm_sync(sync_db)
    tmp = Path(tempfile.mkdtemp(prefix="rita-e2e-"))
    dist = tmp / "dist"
    _build_web(dist)
    ports = {name: free_port() for name in ("jira", "sync", "consumer", "gateway", "api", "web")}
    jira_host = f"127.0.0.1:{ports['jira']}"
    common = {
        "HOST": "127.0.0.1",
        "LOG_FORMAT": "json",
        "REDIS_URL": redis_url,
        "RABBITMQ_URL": rabbitmq_url,
        "STATUS_QUEUE": queue,
        "EVENTS_KEY_PREFIX": prefix,
        "AUTH_JWT_SECRET": secrets.token_urlsafe(32),
        "SYNC_WEBHOOK_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
        "JIRA_ALLOWED_PRIVATE_HOSTS": jira_host,
    }
    base = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    specs: list[tuple[str, list[str], dict[str, str], str]] = [
        (
            "fake-jira",
            [str(BIN / "fake-jira")],
            {"PORT": str(ports["jira"]), "FAKE_JIRA_ACCOUNTS": f"{JIRA_EMAIL}:{JIRA_TOKEN}"},
            f"{base['jira']}/readyz",
        ),
        (
            "status-consumer",
            [str(BIN / "status-consumer")],
            {"PORT": str(ports["consumer"]), "DATABASE_URL": rita_database_url},
            f"{base['consumer']}/readyz",
        ),
        (
            "sse-gateway",
            [str(BIN / "sse-gateway")],
            {"PORT": str(ports["gateway"])},
            f"{base['gateway']}/readyz",
        ),
        (
            "itsm-sync",
            [str(BIN / "itsm-sync")],
            {
                "PORT": str(ports["sync"]),
                "ITSM_SYNC_DATABASE_URL": sync_db,
                "ITSM_SYNC_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
                # Small pages: an import of a few hundred tickets reports progress several times.
                "ITSM_SYNC_PAGE_SIZE": "20",
            },
            f"{base['sync']}/readyz",
        ),
        (
            "connections-api",
            [str(BIN / "connections-api")],
            {
                "PORT": str(ports["api"]),
                "DATABASE_URL": rita_database_url,
                "AUTH_DEV_MODE": "true",
                "SYNC_WEBHOOK_URL": f"{base['sync']}/webhook",
                "OUTBOX_POLL_INTERVAL": "0.2",
            },
            f"{base['api']}/readyz",
        ),
        (
            "web",
            [
                str(WEB / "node_modules" / ".bin" / "vite"),
                "preview",
                "--outDir",
                str(dist),
                "--port",
                str(ports["web"]),
                "--strictPort",
                "--host",
                "127.0.0.1",
            ],
            {"RITA_API_URL": base["api"], "RITA_EVENTS_URL": base["gateway"]},
            f"{base['web']}/",
        ),
    ]
    procs: list[Proc] = []
    try:
        for name, args, env, ready in specs:
            procs.append(_start(name, args, {**common, **env}, ready, tmp))
        _wait_ready(procs)
        yield System(
            web_url=base["web"], api_url=base["api"], fake_jira_url=base["jira"], procs=procs
        )
    finally:
        _stop(procs)
        shutil.rmtree(tmp, ignore_errors=True)


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


@pytest.fixture
def tenant_id() -> uuid.UUID:
    """A tenant of this test's own: its rows are seeded fresh by the console."""
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
