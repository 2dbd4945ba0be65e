"""Console script `sse-gateway`: uvicorn with a drain that tells clients to reconnect."""

from __future__ import annotations

import asyncio
import socket
from types import FrameType
from typing import Any

import uvicorn

from observability import configure_observability, freeze_startup_objects
from sse_gateway.app import Gateway, create_app
from sse_gateway.config import Settings, load_settings

# Loopback bursts of thousands of connections need a deep accept queue.
_BACKLOG = 8192


class GatewayServer(uvicorn.Server):
    """On SIGTERM/SIGINT: queue `reconnect` to every stream, then let uvicorn drain."""

    def __init__(self, config: uvicorn.Config, gateway: Gateway) -> None:
        super().__init__(config)
        self.gateway = gateway
        self._hub = gateway.hub
        self._loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        # Signal handlers run between bytecodes: hand the drain to the loop, thread-safely.
        if self._loop is not None and not self.should_exit:
            self._loop.call_soon_threadsafe(self._hub.drain)
        super().handle_exit(sig, frame)


def build_server(settings: Settings, **overrides: object) -> GatewayServer:
    """A configured server (tests pass `host`/`port` or use `serve(sockets=...)`)."""
    app, gateway = create_app(settings)
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "loop": "uvloop",
        "http": "httptools",
        "lifespan": "on",
        "access_log": False,
        "log_config": None,
        "backlog": _BACKLOG,
        "timeout_graceful_shutdown": int(settings.gateway_shutdown_grace_seconds) or None,
    }
    config = uvicorn.Config(app, **(options | overrides))
    return GatewayServer(config, gateway)


def main() -> None:
    """Start the gateway on `PORT` (default 8001)."""
    settings = load_settings()
    configure_observability("sse-gateway", level=settings.log_level, fmt=settings.log_format)
    server = build_server(settings)
    # The GC policy (gcpolicy.py) then freezes what survives, every second, while serving.
    freeze_startup_objects()
    server.run()


if __name__ == "__main__":
    main()
