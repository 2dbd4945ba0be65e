"""Prometheus exposition for any Starlette/FastAPI app."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import Response


def metrics_response(_request: Request, registry: CollectorRegistry = REGISTRY) -> Response:
    """`GET /metrics` handler body."""
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
