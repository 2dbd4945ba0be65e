"""One verify, one trace: the API, itsm-sync, fake-jira, the consumer and the gateway all join it.

Every process exports with its ordinary OTLP exporter to a receiver in this test (the in-memory
exporter of the suite); the test starts the trace itself with a `traceparent` of its own.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from collections.abc import Callable

from rita_testing.stack import Stack
from tests.chaos.harness import Api, Listener, eventually_true, start_whole_system
from tests.tracing.otlp_receiver import otlp_receiver

EMAIL = "trace@example.com"
TOKEN = "fake-jira-token-trace"
SERVICES = {"connections-api", "itsm-sync", "fake-jira", "status-consumer", "sse-gateway"}


async def test_one_verify_is_one_trace_across_all_five_processes(
    stack_factory: Callable[..., Stack],
) -> None:
    trace_id = secrets.token_hex(16)
    traceparent = f"00-{trace_id}-{secrets.token_hex(8)}-01"
    with otlp_receiver() as (endpoint, store):
        stack = stack_factory(
            OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
            OTEL_TRACES_SAMPLER="parentbased_always_on",
            OTEL_BSP_SCHEDULE_DELAY="100",
        )
        jira, gateway, api_proc = await asyncio.to_thread(
            start_whole_system, stack, f"{EMAIL}:{TOKEN}"
        )
        async with Api(api_proc.url, uuid.uuid4()) as api:
            row = await api.connection("jira_itsm")
            listener = await Listener(gateway.url, await api.events_token()).start()
            # The user's click starts the trace: its id is the test's own.
            api.http.headers["traceparent"] = traceparent
            await api.verify_jira(row["id"], jira.url, EMAIL, TOKEN)
            del api.http.headers["traceparent"]

            async def verified_on_screen() -> bool:
                return any(
                    f.event == "data_source_update" and f.json()["enabled"] is True
                    for f in listener.data_frames()
                )

            await eventually_true(verified_on_screen, within=60)
            await listener.stop()

        async def every_service_reported() -> bool:
            seen = {s.service for s in store.spans() if s.trace_id == trace_id}
            return seen >= SERVICES

        try:
            await eventually_true(every_service_reported, within=30)
        finally:
            by_service = {
                service: sorted(
                    {
                        s.name
                        for s in store.spans()
                        if s.service == service and s.trace_id == trace_id
                    }
                )
                for service in SERVICES
            }
            print(json.dumps(by_service, indent=1))  # noqa: T201 - shown when the test fails
    assert {s.service for s in store.spans() if s.trace_id == trace_id} == SERVICES
    # Log lines of the request carry the trace id (the API's and the sync service's).
    for name in ("connections-api", "itsm-sync"):
        assert trace_id in stack.procs[name].log.read_text(), f"{name} logged no line of the trace"
