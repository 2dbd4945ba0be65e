"""Burst rate limit (429 + headers), fault injection, and the admin counters."""

from __future__ import annotations

import time

import httpx

from fake_jira.config import FakeJiraConfig
from fake_jira.testing import DEV_EMAIL, DEV_TOKEN, running_fake_jira_server
from rita_testing import ManualClock

API = "/rest/api/3"
TWO_ACCOUNTS = f"{DEV_EMAIL}:{DEV_TOKEN},other@example.com:other-token"


async def test_burst_limit_answers_429_with_jira_headers() -> None:
    clock = ManualClock(500.0)
    config = FakeJiraConfig(issues=50, rate_limit=0.5, burst=3, accounts=TWO_ACCOUNTS)
    async with (
        running_fake_jira_server(config, monotonic=clock) as jira,
        httpx.AsyncClient(base_url=jira.base_url, auth=(DEV_EMAIL, DEV_TOKEN)) as http,
    ):
        responses = [await http.get(f"{API}/myself") for _ in range(5)]
        assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
        ok, limited = responses[0], responses[3]
        assert ok.headers["X-RateLimit-Limit"] == "3"
        assert ok.headers["X-RateLimit-Remaining"] == "2"
        assert "X-RateLimit-NearLimit" not in ok.headers
        assert limited.headers["Retry-After"] == "2"  # one token at 0.5/s
        assert limited.headers["RateLimit-Reason"] == "jira-burst-based"
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        assert limited.headers["X-RateLimit-NearLimit"] == "true"
        assert limited.headers["X-RateLimit-Reset"].endswith("Z")
        assert limited.json() == {"errorMessages": ["Rate limit exceeded."], "errors": {}}
        # Another account has its own bucket.
        other = await http.get(f"{API}/myself", auth=("other@example.com", "other-token"))
        assert other.status_code == 200
        stats = jira.stats()
        assert stats["rate_limited"] == 2
        assert stats["by_status"] == {"200": 4, "429": 2}
        assert stats["by_account"][DEV_EMAIL] == 5


async def test_waiting_retry_after_recovers() -> None:
    clock = ManualClock(500.0)
    config = FakeJiraConfig(issues=10, rate_limit=4, burst=1)
    async with (
        running_fake_jira_server(config, monotonic=clock) as jira,
        httpx.AsyncClient(base_url=jira.base_url, auth=(DEV_EMAIL, DEV_TOKEN)) as http,
    ):
        assert (await http.get(f"{API}/status")).status_code == 200
        limited = await http.get(f"{API}/status")
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "1"
        start = clock.now
        clock.now = start + 0.2  # 0.8 of a token back at 4/s: still refused
        assert (await http.get(f"{API}/status")).status_code == 429
        clock.now = start + 0.3  # 1.2 tokens: one request, then refused again
        assert (await http.get(f"{API}/status")).status_code == 200
        assert (await http.get(f"{API}/status")).status_code == 429
        clock.now += float(limited.headers["Retry-After"])  # waiting Retry-After always works
        assert (await http.get(f"{API}/status")).status_code == 200


async def test_admin_config_and_reset_over_http() -> None:
    async with (
        running_fake_jira_server(FakeJiraConfig(issues=10)) as jira,
        httpx.AsyncClient(base_url=jira.base_url, auth=(DEV_EMAIL, DEV_TOKEN)) as http,
    ):
        changed = await http.patch("/_admin/config", json={"rate_limit": 0.1, "burst": 1})
        assert changed.json()["burst"] == 1
        statuses = [(await http.get(f"{API}/myself")).status_code for _ in range(3)]
        assert statuses[0] == 200
        assert 429 in statuses
        stats = (await http.get("/_admin/stats")).json()
        assert stats["requests"] == 3
        assert stats["rate_limited"] == statuses.count(429)
        assert stats["by_endpoint"]["GET /rest/api/3/myself"] == 3
        await http.patch("/_admin/config", json={"rate_limit": 0})
        reset = (await http.post("/_admin/reset")).json()
        assert reset["requests"] == 0
        assert (await http.get(f"{API}/myself")).status_code == 200
        assert (await http.patch("/_admin/config", json={"nope": 1})).status_code == 422


async def test_every_request_fails_with_error_rate_one() -> None:
    config = FakeJiraConfig(issues=10, error_rate=1.0, error_statuses="502,503")
    async with (
        running_fake_jira_server(config) as jira,
        httpx.AsyncClient(base_url=jira.base_url, auth=(DEV_EMAIL, DEV_TOKEN)) as http,
    ):
        responses = [await http.get(f"{API}/myself") for _ in range(10)]
        assert {r.status_code for r in responses} <= {502, 503}
        assert all(r.json()["errorMessages"] for r in responses)
        assert all(r.headers["Retry-After"] == "1" for r in responses if r.status_code == 503)
        assert jira.stats()["faults"] == 10


async def test_partial_error_rate_mixes_failures_and_successes() -> None:
    config = FakeJiraConfig(issues=10, error_rate=0.5, seed=11)
    async with (
        running_fake_jira_server(config) as jira,
        httpx.AsyncClient(base_url=jira.base_url, auth=(DEV_EMAIL, DEV_TOKEN)) as http,
    ):
        codes = [(await http.get(f"{API}/issuetype")).status_code for _ in range(60)]
        assert 200 in codes
        assert {c for c in codes if c != 200} <= {500, 502, 503}
        assert len([c for c in codes if c != 200]) == jira.stats()["faults"] > 0


async def test_added_latency_delays_answers() -> None:
    async with (
        running_fake_jira_server(FakeJiraConfig(issues=10, latency_ms=150)) as jira,
        httpx.AsyncClient(base_url=jira.base_url, auth=(DEV_EMAIL, DEV_TOKEN)) as http,
    ):
        started = time.monotonic()
        assert (await http.get(f"{API}/myself")).status_code == 200
        assert time.monotonic() - started >= 0.15  # a lower bound only: sleeping is guaranteed
        jira.configure(latency_ms=0)
        assert jira.state.core.faults.latency_ms == 0
