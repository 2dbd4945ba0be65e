"""The console script: starts from env + flags, serves (HTTP or HTTPS), stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import ssl
import sys
from pathlib import Path

import httpx

from emulator.process import emulator_process

COMMAND = [sys.executable, "-m", "fake_jira.main", "--host", "127.0.0.1", "--port", "0"]


def test_console_script_serves_and_stops_on_sigterm() -> None:
    env = dict(os.environ, FAKE_JIRA_ACCOUNTS="dev@example.com:dev-token", LOG_FORMAT="json")
    with emulator_process([*COMMAND, "--issues", "100"], env=env) as jira:
        assert jira.base_url.startswith("http://127.0.0.1:")
        myself = httpx.get(
            f"{jira.base_url}/rest/api/3/myself", auth=("dev@example.com", "dev-token")
        )
        assert myself.status_code == 200
        jira.process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal (exit by SIGTERM is normal).
        assert jira.process.wait(timeout=30) in (0, -signal.SIGTERM)
    output = jira.output()
    assert "Finished server process" in output
    assert '"event": "dataset_ready"' in output
    assert "dev-token" not in output


def test_tls_serves_https_with_the_written_authority(tmp_path: Path) -> None:
    ca_file = tmp_path / "jira-ca.pem"
    env = dict(os.environ, FAKE_JIRA_TLS="true", LOG_FORMAT="json")
    argv = [*COMMAND, "--issues", "30", "--tls-ca-file", str(ca_file)]
    with emulator_process(argv, env=env) as jira:
        assert jira.base_url.startswith("https://127.0.0.1:")
        assert jira.ca_file == str(ca_file)
        trusted = ssl.create_default_context(cafile=str(ca_file))
        response = httpx.get(
            f"{jira.base_url.replace('127.0.0.1', 'localhost')}/rest/api/2/serverInfo",
            verify=trusted,
        )
        assert response.status_code == 200
        assert response.json()["deploymentType"] == "Cloud"
