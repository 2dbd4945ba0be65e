"""problem+json rendering, the settings base's naming rule, the lifespan state accessor."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI, Request
from pydantic import SecretStr

from servicekit import (
    PROBLEM_JSON,
    ProblemError,
    ServiceSettings,
    install_problem_handlers,
    service_state,
    set_service_state,
)


class Teapot(ProblemError):
    status, code, title = 418, "teapot", "I am a teapot"


@dataclass
class State:
    greeting: str


def make_app() -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        set_service_state(app, State("hello"))
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/teapot")
    async def teapot() -> None:
        raise Teapot("short and stout", headers={"Retry-After": "5"})

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret-value-in-message")

    @app.get("/number")
    async def number(n: int) -> int:
        return n

    @app.get("/greeting")
    async def greeting(request: Request) -> str:
        return service_state(request, State).greeting

    install_problem_handlers(app)
    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = make_app()
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            yield c


async def test_problem_error_renders_status_code_title_detail_headers(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/teapot")
    assert response.status_code == 418
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["retry-after"] == "5"
    assert response.json() == {
        "type": "about:blank",
        "title": "I am a teapot",
        "status": 418,
        "code": "teapot",
        "detail": "short and stout",
        "instance": "/teapot",
    }


async def test_unknown_route_and_method_have_stable_codes(client: httpx.AsyncClient) -> None:
    missing = await client.get("/nowhere")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    wrong = await client.post("/teapot")
    assert (wrong.status_code, wrong.json()["code"]) == (405, "method_not_allowed")


async def test_validation_error_lists_fields_without_the_input(client: httpx.AsyncClient) -> None:
    response = await client.get("/number", params={"n": "not-a-number-secret"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"][0]["loc"] == ["query", "n"]
    assert "not-a-number-secret" not in response.text


async def test_unexpected_error_is_a_500_problem_without_its_message(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/boom")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "secret-value" not in response.text


async def test_state_is_reached_through_the_request_and_the_app(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/greeting")).json() == "hello"
    with pytest.raises(RuntimeError, match="has its lifespan run"):
        service_state(make_app(), State)


class DemoSettings(ServiceSettings):
    port: int = 9999
    demo_secret: SecretStr
    demo_knob: int = 3


def test_settings_field_name_is_the_variable_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEMO_SECRET", "s3cret")
    monkeypatch.setenv("DEMO_KNOB", "7")
    monkeypatch.setenv("MAX_BODY_BYTES", "2048")
    settings = DemoSettings.load("demo")
    assert (settings.port, settings.demo_knob, settings.max_body_bytes) == (9999, 7, 2048)
    assert settings.demo_secret.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_settings_error_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DEMO_SECRET", raising=False)
    monkeypatch.setenv("DEMO_KNOB", "many")
    with pytest.raises(SystemExit) as exited:
        DemoSettings.load("demo")
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("demo: configuration error: ")
    assert "DEMO_SECRET is required" in err
    assert "DEMO_KNOB" in err
    assert "many" not in err
    assert "\n" not in err
