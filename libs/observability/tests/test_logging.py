"""Log lines are JSON with bound context, and secret-looking keys are masked at any depth."""

import json

import pytest
import structlog

from observability import REDACTED, configure_logging


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
