"""How close itsm-sync's Jira import gets to Jira's own rate limit.

Value: issues/s of a whole import run through itsm-sync (signed `sync_tickets` webhook in, tickets
upserted into PostgreSQL with a checkpoint per page, a `running` message per page to RabbitMQ,
until the `completed` message arrives): 10,000 issues updated over the last 90 days, served by
fake-jira (its own process) with a burst limit of 20 requests/s per account.
Baseline (the ceiling): a bare httpx loop that only pages through the same query (same fields,
same page size) under the same limit, sleeping Retry-After on 429 and storing nothing.
Target: ratio >= 0.8, 0 failed records, 0 unhandled 429s (a 429 the import could not absorb
fails the run, so "completed with 10,000" means none).

Second baseline (a peer): Airbyte's Jira source (PyPI `airbyte-source-jira`, installed in an
isolated environment by `uv run --isolated`) reading its issues stream for the same range from
the same emulator configuration (data set, burst limit; its own account), served over HTTPS
because the connector only calls `https://{domain}` (fake-jira `--tls`; the connector trusts a
copy of certifi's bundle with the throwaway authority appended, see
bench/clients/airbyte_source_jira.py). Its issues/s run from its "Starting syncing" log line to
its last record, so its interpreter start-up (~15 s of imports here) is not counted. It pages
the offset `/rest/api/3/search` 50 issues at a time with `fields=*all` and
`expand=renderedFields,transitions,changelog` (its defaults); itsm-sync asks for its fields, 100
at a time. `RESULT jira_import_vs_airbyte` = itsm-sync's issues/s over Airbyte's (goal >= 1.0).
`BENCH_JIRA_ISSUES` shrinks the data set for a quick run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from itsm_sync_bench import ImportRun, import_through_itsm_sync, rate_limited

from emulator.process import EmulatorProcess, emulator_process, isolated_command
from itsm_sync.connectors.jira import TICKET_FIELDS, import_jql
from observability import configure_logging

ISSUES = int(os.environ.get("BENCH_JIRA_ISSUES", "10000"))
DAYS = 90
RATE_LIMIT = 20
PAGE_SIZE = 100  # fake-jira caps pages at 100 when fields beyond id/key are asked, as Jira does
BASELINE_ACCOUNT = ("baseline@example.com", "bench-baseline-token")
IMPORT_ACCOUNT = ("import@example.com", "bench-import-token")
AIRBYTE_ACCOUNT = ("airbyte@example.com", "bench-airbyte-token")
AIRBYTE = "airbyte-source-jira==4.0.0"
AIRBYTE_CLIENT = Path(__file__).parent / "clients" / "airbyte_source_jira.py"


@contextlib.asynccontextmanager
async def fake_jira(*, tls: bool = False) -> AsyncIterator[EmulatorProcess]:
    """fake-jira in its own process (so it does not share our event loop), until the block ends;
    with `tls`, over HTTPS with a throwaway authority (`EmulatorProcess.ca_file`)."""
    accounts = ",".join(
        f"{email}:{token}" for email, token in (BASELINE_ACCOUNT, IMPORT_ACCOUNT, AIRBYTE_ACCOUNT)
    )
    argv = [sys.executable, "-m", "fake_jira.main", "--host", "127.0.0.1", "--port", "0"]
    argv += ["--issues", str(ISSUES), "--days", str(DAYS), "--rate-limit", str(RATE_LIMIT)]
    argv += ["--accounts", accounts] + (["--tls"] if tls else [])
    # Start-up blocks the loop for a moment; nothing else runs yet.
    with emulator_process(argv) as jira:
        yield jira


async def baseline(base_url: str) -> tuple[float, int]:
    """The ceiling: page through the query as fast as the limit allows; (issues/s, 429s)."""
    email, token = BASELINE_ACCOUNT
    request: dict[str, Any] = {
        "jql": import_jql(DAYS),
        "maxResults": PAGE_SIZE,
        "fields": list(TICKET_FIELDS),
    }
    seen = throttled = 0
    async with httpx.AsyncClient(base_url=base_url, auth=(email, token), timeout=30) as http:
        started = time.perf_counter()
        while True:
            response = await http.post("/rest/api/3/search/jql", json=request)
            if response.status_code == 429:
                throttled += 1
                await asyncio.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            response.raise_for_status()
            body = response.json()
            seen += len(body["issues"])
            if body.get("isLast") or not body.get("nextPageToken"):
                break
            request["nextPageToken"] = body["nextPageToken"]
        elapsed = time.perf_counter() - started
    assert seen == ISSUES, seen
    return seen / elapsed, throttled


async def itsm_sync_import(base_url: str) -> ImportRun:
    """The import through itsm-sync (verify, then one run), measured as the console sees it."""
    email, token = IMPORT_ACCOUNT
    return await import_through_itsm_sync(
        connection_type="jira_itsm",
        credentials={"email": email, "api_token": token},
        settings={"base_url": base_url, "email": email},
        allowed_host=base_url.removeprefix("http://"),
        time_range_days=DAYS,
        page_size=PAGE_SIZE,
    )


async def airbyte_import() -> tuple[float, int, int]:
    """Airbyte's Jira source reading the issues stream; (issues/s, records, 429s)."""
    email, token = AIRBYTE_ACCOUNT
    async with fake_jira(tls=True) as jira:
        assert jira.ca_file, "fake-jira --tls names its authority in the tls_ready log line"
        port = jira.base_url.rsplit(":", 1)[1]
        start = (datetime.now(UTC) - timedelta(days=DAYS)).strftime("%Y-%m-%dT%H:%M:%SZ")
        config = {
            "email": email,
            "api_token": token,
            "domain": f"localhost:{port}",  # the certificate names localhost
            "start_date": start,
        }
        with tempfile.TemporaryDirectory(prefix="bench-airbyte-") as folder:
            config_file = Path(folder) / "config.json"
            config_file.write_text(json.dumps(config))
            records, started, finished = await asyncio.to_thread(
                _run_airbyte, str(config_file), jira.ca_file
            )
        async with httpx.AsyncClient(verify=ssl.create_default_context(cafile=jira.ca_file)) as h:
            throttled = (await h.get(f"{jira.base_url}/_admin/stats")).json()["rate_limited"]
    return records / (finished - started), records, int(throttled)


def _run_airbyte(config_file: str, ca_file: str) -> tuple[int, float, float]:
    """Stream the connector's messages; (records, time of "Starting syncing", time of the last
    record). Raises with the connector's last words if it fails."""
    command = ["python", str(AIRBYTE_CLIENT), config_file, ca_file]
    argv, env = isolated_command([AIRBYTE], command)
    records, started, finished = 0, 0.0, 0.0
    tail: list[str] = []
    with subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                tail = [*tail[-20:], line]
                continue
            kind = message.get("type")
            if kind == "RECORD" and message["record"]["stream"] == "issues":
                records += 1
                finished = time.perf_counter()
            elif kind == "LOG":
                text = message["log"]["message"]
                tail = [*tail[-20:], text]
                if text.startswith("Starting syncing") and not started:
                    started = time.perf_counter()
            elif kind == "TRACE" and message["trace"].get("type") == "ERROR":
                tail = [*tail[-20:], json.dumps(message["trace"])]
    if process.returncode != 0 or not started:
        raise RuntimeError(f"{AIRBYTE} failed (exit {process.returncode}):\n" + "\n".join(tail))
    return records, started, finished


async def main() -> None:
    """Measure both, print the figures and the RESULT line."""
    # The service's JSON logs, at WARNING so the figures stay readable.
    configure_logging("itsm-sync-bench", level="WARNING")
    async with fake_jira() as jira:
        base_url = jira.base_url
        before = await rate_limited(base_url)
        ceiling, baseline_429 = await baseline(base_url)
        await asyncio.sleep(1.0)
        middle = await rate_limited(base_url)
        run = await itsm_sync_import(base_url)
        import_429 = await rate_limited(base_url) - middle
    value, final, running, max_gap = run.rate, run.final, run.running, run.max_gap
    print(
        f"jira_import: {ISSUES} issues over {DAYS} days, burst limit {RATE_LIMIT} req/s, "
        f"pages of {PAGE_SIZE}"
    )
    print(f"  baseline (bare httpx paging loop): {ceiling:.0f} issues/s, 429s={baseline_429}")
    print(
        f"  itsm-sync import: {value:.0f} issues/s, status={final['status']}, "
        f"records_processed={final.get('records_processed')}, "
        f"records_failed={final.get('records_failed')}, running messages={running}, "
        f"429s absorbed={import_429} (before baseline: {before})"
    )
    assert final["status"] == "completed", final
    assert final.get("records_processed") == ISSUES, final
    assert final.get("records_failed") == 0, final
    print(
        f"RESULT jira_import value={value:.1f} baseline={ceiling:.1f} "
        f"ratio={value / ceiling:.3f} unit=issues/s"
    )
    # The issue promises progress at most 1 s apart; measured here rather than asserted in a test.
    print(f"RESULT jira_import_progress_max_gap value={max_gap:.3f} baseline=- ratio=- unit=s")
    peer, peer_records, peer_429 = await airbyte_import()
    print(
        f"  Airbyte source-jira ({AIRBYTE}, issues stream, HTTPS): {peer:.0f} issues/s, "
        f"records={peer_records}, 429s={peer_429}"
    )
    assert peer_records == ISSUES, peer_records
    print(
        f"RESULT jira_import_vs_airbyte value={value:.1f} baseline={peer:.1f} "
        f"ratio={value / peer:.3f} unit=issues/s"
    )


if __name__ == "__main__":
    asyncio.run(main())
