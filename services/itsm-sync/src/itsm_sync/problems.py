"""RFC 9457 problem+json responses with a stable `code`."""

from __future__ import annotations

from starlette.responses import JSONResponse


def problem(status: int, code: str, title: str, detail: str | None = None) -> JSONResponse:
    """A problem+json response."""
    body: dict[str, object] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    return JSONResponse(body, status_code=status, media_type="application/problem+json")
