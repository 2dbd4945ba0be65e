"""Wire an emulator's FastAPI app to its core: state, admin routes, counting, refusals."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from emulator.admin import admin_router
from emulator.core import EmulatorCore, Refusal
from emulator.middleware import CountingMiddleware

RefusalRenderer = Callable[[Request, Refusal], Awaitable[Response]]


def attach(
    app: FastAPI,
    core: EmulatorCore,
    *,
    api_prefixes: tuple[str, ...],
    endpoint_name: Callable[[str, str], str],
    readiness: Callable[[Request], dict[str, Any]],
    on_refusal: RefusalRenderer,
) -> None:
    """Put `core` on `app.state.emulator`, serve health/metrics/admin, count API requests
    (paths under `api_prefixes`) and render refusals in the emulator's error dialect."""
    app.state.emulator = core
    app.include_router(admin_router(readiness))

    async def refusal(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refusal)  # noqa: S101 - registered for Refusal only
        return await on_refusal(request, exc)

    app.add_exception_handler(Refusal, refusal)
    app.add_middleware(CountingMiddleware, core=core, prefixes=api_prefixes, endpoint=endpoint_name)
