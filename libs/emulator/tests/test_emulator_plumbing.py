"""The shared plumbing on its own: accounts, Basic auth, token buckets, gate, settings, TLS."""

from __future__ import annotations

import asyncio
import base64
import ssl
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic_settings import SettingsConfigDict

from emulator.accounts import BasicAuth, parse_accounts
from emulator.gate import Gate
from emulator.limits import Faults, TokenBuckets
from emulator.process import IsolatedRunError, isolated_command, isolated_run
from emulator.seeding import SiteClock, seeded, stable_hex, update_window
from emulator.server import serve_in_process
from emulator.settings import EmulatorSettings, load_settings
from emulator.tls import generate


def basic(login: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{secret}".encode()).decode()


def test_accounts_and_basic_auth() -> None:
    accounts = parse_accounts("Ann:pw1, bob:pw2:ro", variable="X_ACCOUNTS", flags=("ro",))
    assert [(a.login, a.has("ro")) for a in accounts] == [("Ann", False), ("bob", True)]
    auth = BasicAuth(accounts)
    assert auth.authenticate(basic("ann", "pw1")) is accounts[0]  # logins case-insensitive
    assert auth.authenticate(basic("ann", "pw2")) is None
    assert auth.authenticate("Bearer x") is None
    assert auth.authenticate("Basic !!!") is None
    assert auth.authenticate(None) is None
    with pytest.raises(ValueError, match="X_ACCOUNTS: unknown account flag 'admin'"):
        parse_accounts("a:b:admin", variable="X_ACCOUNTS", flags=("ro",))
    with pytest.raises(ValueError, match=r"X_ACCOUNTS entries must look like login:secret\[:ro\]"):
        parse_accounts("a", variable="X_ACCOUNTS", flags=("ro",))


def test_token_bucket_on_an_injected_clock() -> None:
    now = [100.0]
    buckets = TokenBuckets(rate=2.0, capacity=3, clock=lambda: now[0])
    assert [buckets.take("a").allowed for _ in range(4)] == [True, True, True, False]
    denied = buckets.take("a")
    assert (denied.retry_after, denied.remaining) == (1, 0)
    now[0] += 0.5  # one token back at 2/s
    assert buckets.take("a").allowed
    assert not buckets.take("a").allowed
    assert buckets.take("b").allowed  # per account
    now[0] += 60
    assert buckets.take("a").remaining == 2  # capped at capacity
    slow = TokenBuckets(rate=0.25, capacity=1, clock=lambda: 0.0)
    assert slow.take("a").allowed
    assert slow.take("a").retry_after == 4


def test_faults_are_reproducible() -> None:
    first = Faults(error_rate=0.5, seed=9)
    second = Faults(error_rate=0.5, seed=9)
    assert [first.failure() for _ in range(50)] == [second.failure() for _ in range(50)]
    assert {first.failure() for _ in range(200)} == {None, 500, 502, 503}


def test_seeding_helpers() -> None:
    assert seeded(1, "a").random() == seeded(1, "a").random()
    assert seeded(1, "a").random() != seeded(1, "b").random()
    assert stable_hex("x", 1) == stable_hex("x", 1) != stable_hex("x", 2)
    assert len(stable_hex("x")) == 32
    oldest, newest = update_window(10 * 86_400_000, 1)
    assert (oldest, newest) == (10 * 86_400_000 - 86_400_000 + 864_000, 10 * 86_400_000 - 60_000)
    ticks = [5.0]
    clock = SiteClock(1_000, lambda: ticks[0])
    ticks[0] += 2.5
    assert clock.now_ms() == 3_500


async def test_gate_holds_after_allowance_until_released() -> None:
    gate = Gate()
    await gate.passage()  # open: no wait
    gate.close(after=1)
    await gate.passage()  # the allowance
    held = [asyncio.create_task(gate.passage()) for _ in range(2)]
    assert await gate.wait_held(2, within=10)
    assert gate.snapshot() == {"closed": True, "allowance": 0, "waiting": 2, "held_total": 2}
    gate.release(1)
    done, pending = await asyncio.wait(held, return_when=asyncio.FIRST_COMPLETED)
    assert len(done) == 1
    assert len(pending) == 1
    assert gate.waiting == 1
    gate.open()
    await asyncio.wait_for(asyncio.gather(*pending), timeout=10)
    assert gate.snapshot()["waiting"] == 0
    assert not await gate.wait_held(1, within=0.01)


class DemoSettings(EmulatorSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_EMULATOR_", extra="ignore")


def test_settings_from_env_and_flags(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEMO_EMULATOR_ACCOUNTS", "a:b")
    monkeypatch.setenv("DEMO_EMULATOR_RATE_LIMIT", "3")
    loaded = load_settings(DemoSettings, ["--burst", "7", "--tls"], prog="demo", description="")
    assert (loaded.rate_limit, loaded.bucket_size(), loaded.tls) == (3, 7, True)
    monkeypatch.setenv("DEMO_EMULATOR_ERROR_STATUSES", "404")
    with pytest.raises(SystemExit) as stopped:
        load_settings(DemoSettings, [], prog="demo", description="")
    assert stopped.value.code == 2
    assert capsys.readouterr().err == (
        "demo: invalid DEMO_EMULATOR_ERROR_STATUSES: must list 5xx codes, e.g. 500,502,503\n"
    )


async def test_tls_certificates_verify_with_the_generated_authority(tmp_path: Path) -> None:
    files = generate(ca_file=tmp_path / "ca.pem")
    assert files.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert files.key_file.stat().st_mode & 0o077 == 0
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"pong": "yes"}

    trusted = ssl.create_default_context(cafile=str(files.ca_file))
    async with serve_in_process(app, tls=files) as base_url:
        assert base_url.startswith("https://127.0.0.1:")
        async with httpx.AsyncClient(verify=trusted) as http:
            assert (await http.get(f"{base_url}/ping")).json() == {"pong": "yes"}
        async with httpx.AsyncClient() as untrusting:  # certifi's bundle alone refuses it
            with pytest.raises(httpx.ConnectError):
                await untrusting.get(f"{base_url}/ping")
        localhost = base_url.replace("127.0.0.1", "localhost")
        async with httpx.AsyncClient(verify=trusted) as http:
            assert (await http.get(f"{localhost}/ping")).status_code == 200


def test_isolated_run_fails_clearly_when_the_client_cannot_be_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Offline, with a version no cache holds: the install fails without any network traffic.
    monkeypatch.setenv("UV_OFFLINE", "1")
    argv, _ = isolated_command(["jira==0.0.1"], ["python", "-c", "print(1)"])
    assert argv[argv.index("--with") + 1] == "jira==0.0.1"
    assert argv[1:4] == ["run", "--isolated", "--no-project"]
    with pytest.raises(IsolatedRunError, match=r"with jira==0\.0\.1 failed \(exit \d+\)"):
        isolated_run(["jira==0.0.1"], ["python", "-c", "print(1)"], timeout=120)
