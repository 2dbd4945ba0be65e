"""The console script: starts from env + flags, serves, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_console_script_serves_and_stops_on_sigterm() -> None:
    port = _free_port()
    env = dict(os.environ, FAKE_JIRA_ACCOUNTS="dev@example.com:dev-token", LOG_FORMAT="json")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fake_jira.main",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--issues",
            "100",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.monotonic() < deadline, "fake-jira did not start"
            time.sleep(0.1)
        myself = httpx.get(
            f"http://127.0.0.1:{port}/rest/api/3/myself", auth=("dev@example.com", "dev-token")
        )
        assert myself.status_code == 200
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal (exit by SIGTERM is normal).
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
        output = process.stdout.read() if process.stdout else ""
        assert "Finished server process" in output
        assert '"event": "dataset_ready"' in output
        assert "dev-token" not in output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
