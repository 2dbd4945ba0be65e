"""The committed AsyncAPI document is current; bad configuration stops start-up in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from status_consumer.config import Settings
from status_consumer.docs import asyncapi_json

ROOT = Path(__file__).resolve().parents[1]


def test_committed_asyncapi_document_is_current() -> None:
    committed = (ROOT / "asyncapi.json").read_text()
    assert committed == asyncapi_json(), (
        "services/status-consumer/asyncapi.json is stale: run "
        "services/status-consumer/scripts/export-docs.sh (or `make schema`)"
    )


def test_asyncapi_document_describes_the_status_queue() -> None:
    document = json.loads(asyncapi_json())
    [channel] = document["channels"].values()
    assert channel["address"] == "data_source_status"
    assert channel["bindings"]["amqp"]["queue"]["durable"] is True
    schemas = document["components"]["schemas"]
    assert {"VerificationMessage", "TicketIngestionMessage", "SyncMessage"} <= set(schemas)


def test_defaults_follow_the_design(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever the developer's shell exports: the defaults themselves are under test.
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert (settings.port, settings.status_queue, settings.events_key_prefix) == (
        8002,
        "data_source_status",
        "rita:events:",
    )
    assert (settings.batch_max_size, settings.prefetch_count, settings.max_attempts) == (
        300,
        600,
        5,
    )
    assert settings.batch_max_size < settings.prefetch_count


def test_environment_names_are_the_field_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9102")
    monkeypatch.setenv("STATUS_QUEUE", "other_status")
    monkeypatch.setenv("BATCH_MAX_SIZE", "40")
    settings = Settings()
    assert (settings.port, settings.status_queue, settings.batch_max_size) == (
        9102,
        "other_status",
        40,
    )


def test_invalid_setting_stops_with_one_line() -> None:
    env = {**os.environ, "PORT": "not-a-port", "BATCH_MAX_SIZE": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "status_consumer"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "PORT" in lines[0]
    assert "BATCH_MAX_SIZE" in lines[0]
    assert "Traceback" not in done.stderr
