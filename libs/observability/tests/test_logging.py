"""Log lines are JSON with bound context, and secret-looking keys are masked at any depth."""

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from observability import REDACTED, configure_logging


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """`configure_logging` replaces process-wide state: give the next test what it had."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config = structlog.get_config()
    context = structlog.contextvars.get_contextvars()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(**context)


def test_json_line_with_context_and_redaction(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("unit-test")
    log = structlog.get_logger()
    log.info(
        "verify_sent",
        connection_id="c-1",
        api_token="fake-token-abc",
        body={"credentials": {"api_token": "fake-token-abc"}, "settings": {"email": "a@b.co"}},
        headers=[{"Authorization": "Bearer x"}],
    )
    line = capsys.readouterr().out.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["event"] == "verify_sent"
    assert record["service"] == "unit-test"
    assert record["connection_id"] == "c-1"
    assert record["api_token"] == REDACTED
    assert record["body"]["credentials"] == REDACTED
    assert record["body"]["settings"] == {"email": "a@b.co"}
    assert record["headers"] == [{"Authorization": REDACTED}]
    assert "fake-token-abc" not in line


def test_logging_follows_a_swapped_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    import io
    import sys

    configure_logging("unit-test")
    original = sys.stdout
    replacement = io.StringIO()
    sys.stdout = replacement
    try:
        structlog.get_logger().info("after_swap", n=1)
        logging.getLogger("stdlib").warning("stdlib_after_swap")
    finally:
        sys.stdout = original
    lines = [json.loads(line) for line in replacement.getvalue().splitlines()]
    assert [line["event"] for line in lines] == ["after_swap", "stdlib_after_swap"]


def test_settings_error_is_one_line_naming_variables_not_values() -> None:
    from pydantic import BaseModel, ValidationError, field_validator

    from observability import describe_settings_error

    class Example(BaseModel):
        api_secret: str
        port: int

        @field_validator("port")
        @classmethod
        def _positive(cls, value: int) -> int:
            if value <= 0:
                raise ValueError("must be positive")
            return value

    with pytest.raises(ValidationError) as info:
        Example.model_validate({"port": -5})
    line = describe_settings_error("svc", info.value)
    assert line == "svc: configuration error: API_SECRET is required; PORT: must be positive"
    assert "-5" not in line


def test_freeze_startup_objects_freezes_and_sets_thresholds() -> None:
    import gc

    from observability import freeze_startup_objects

    before = gc.get_threshold()
    try:
        freeze_startup_objects((12_345, 11, 9))
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (12_345, 11, 9)
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
