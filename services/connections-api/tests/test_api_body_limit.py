"""Issue 12 point 1: a body over MAX_BODY_BYTES is refused with 413 before it is read whole."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator

import uvicorn

from connections_api.app import create_app
from rita_testing import eventually, free_port
from rita_testing.connections_api import Api
from rita_testing.helpers import public_stub_resolver
from servicekit import KIB, PROBLEM_JSON

CHUNK = 16 * KIB
HUGE = 90 * 1024 * KIB  # the probe's ~91 MB body


class Pulled:
    """A streamed request body that counts the bytes the API pulled."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.pulled < self.total:
            self.pulled += CHUNK
            yield b" " * CHUNK


def assert_payload_too_large(status: int, content_type: str, body: bytes) -> None:
    assert status == 413
    assert content_type == PROBLEM_JSON
    problem = json.loads(body)
    assert problem["code"] == "payload_too_large"
    assert problem["detail"] == "The request body may hold at most 65536 bytes"


async def test_default_limit_is_64_kib(api: Api) -> None:
    assert api.settings.max_body_bytes == 64 * KIB


async def test_unauthenticated_huge_patch_with_length_is_refused_unread(api: Api) -> None:
    body = Pulled(HUGE)
    response = await api.client.patch(
        f"/api/data-sources/{uuid.uuid4()}",
        content=body,
        headers={"Content-Length": str(HUGE), "Content-Type": "application/json"},
    )
    assert_payload_too_large(
        response.status_code, response.headers["content-type"], response.content
    )
    assert body.pulled == 0


async def test_unauthenticated_huge_chunked_patch_reads_at_most_the_limit(api: Api) -> None:
    body = Pulled(HUGE)  # no Content-Length: the body is counted as it arrives
    response = await api.client.patch(
        f"/api/data-sources/{uuid.uuid4()}",
        content=body,
        headers={"Content-Type": "application/json"},
    )
    assert_payload_too_large(
        response.status_code, response.headers["content-type"], response.content
    )
    # 64 KiB is four chunks; the fifth crosses the limit and nothing after it is read.
    assert body.pulled == api.settings.max_body_bytes + CHUNK


async def test_small_unauthenticated_patch_is_401(api: Api) -> None:
    response = await api.client.patch(f"/api/data-sources/{uuid.uuid4()}", json={"name": "x"})
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


async def test_admin_patch_over_the_limit_is_413_and_changes_nothing(
    api: Api, tenant: uuid.UUID
) -> None:
    rows = await api.seed(tenant)
    jira = rows["jira_itsm"]
    big = {"description": "d" * (64 * KIB)}
    response = await api.client.patch(
        f"/api/data-sources/{jira['id']}", json=big, headers=api.headers(tenant)
    )
    assert response.status_code == 413
    after = await api.client.get(f"/api/data-sources/{jira['id']}", headers=api.headers(tenant))
    assert after.json()["description"] == jira["description"]
    assert after.json()["version"] == jira["version"]


@contextlib.asynccontextmanager
async def served(api: Api) -> AsyncIterator[int]:
    """The API's app on a real loopback socket (the 413 path needs no lifespan)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(api.settings, resolver=public_stub_resolver),
            host="127.0.0.1",
            port=port,
            lifespan="off",
            log_config=None,
            access_log=False,
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started, 10, what="uvicorn start")
        yield port
    finally:
        server.should_exit = True
        await task


async def test_over_a_socket_the_413_comes_back_before_the_body_is_sent(api: Api) -> None:
    async with served(api) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        head = (
            f"PATCH /api/data-sources/{uuid.uuid4()} HTTP/1.1\r\nHost: api\r\n"
            f"Content-Type: application/json\r\nContent-Length: {HUGE}\r\n\r\n"
        )
        writer.write(head.encode() + b" " * CHUNK)  # the first 16 KiB of 90 MB, then wait
        await writer.drain()
        raw = await asyncio.wait_for(reader.read(), timeout=10)  # the server closes after it
        writer.close()
    head_bytes, _, body = raw.partition(b"\r\n\r\n")
    lines = head_bytes.decode().split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    assert lines[0].startswith("HTTP/1.1 413")
    assert headers["connection"] == "close"
    assert_payload_too_large(413, headers["content-type"], body)
