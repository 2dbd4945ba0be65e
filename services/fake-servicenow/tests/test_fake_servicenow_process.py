"""The console script: env + flags, HTTPS with the throwaway CA, SIGTERM, readable bad config."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx

from emulator.process import emulator_process

COMMAND = [sys.executable, "-m", "fake_servicenow.main", "--host", "127.0.0.1", "--port", "0"]


def test_console_script_serves_https_and_stops_on_sigterm(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    env = dict(os.environ, FAKE_SERVICENOW_ACCOUNTS="ops:ops-secret", LOG_FORMAT="json")
    argv = [*COMMAND, "--incidents", "40", "--tls", "--tls-ca-file", str(ca_file)]
    with emulator_process(argv, env=env) as snow:
        assert snow.base_url.startswith("https://127.0.0.1:")
        assert snow.ca_file == str(ca_file)
        response = httpx.get(
            f"{snow.base_url}/api/now/table/incident",
            params={"sysparm_limit": 1},
            auth=("ops", "ops-secret"),
            verify=ssl.create_default_context(cafile=str(ca_file)),
        )
        assert response.status_code == 200
        assert response.headers["X-Total-Count"] == "40"
        snow.process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal (exit by SIGTERM is normal).
        assert snow.process.wait(timeout=30) in (0, -signal.SIGTERM)
    output = snow.output()
    assert '"event": "dataset_ready"' in output
    assert "ops-secret" not in output


def test_bad_setting_exits_with_one_readable_line() -> None:
    env = dict(os.environ, FAKE_SERVICENOW_ACCOUNTS="admin")
    result = subprocess.run(
        COMMAND, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "fake-servicenow: invalid FAKE_SERVICENOW_ACCOUNTS: FAKE_SERVICENOW_ACCOUNTS entries "
        "must look like login:secret[:noincidents]"
    )
