"""The services as real processes on free loopback ports, for system, chaos, tracing and e2e tests.

A `Stack` starts any of the console scripts (connections-api, status-consumer, sse-gateway,
itsm-sync, the emulators), or any other executable given by its path with its arguments (the
console's `vite`), with one shared environment (database, queue, Redis prefix, secrets) plus each
process's own, waits for its readiness path (`/readyz` unless told), and can stop, SIGKILL and
restart one process while the others keep running. Several processes of one service (replicas)
get distinct names. Every log goes to a file of its own, so a test can scan them (e.g. for a
leaked secret).
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from rita_testing.helpers import free_port

BIN = Path(sys.executable).parent
READY_TIMEOUT = 90.0


# In a process's arguments, replaced by the free port it was given (for a program that takes its
# port on the command line rather than from `PORT`).
PORT_ARG = "{port}"


@dataclass
class Proc:
    """One started process: its command line, environment, port, log file and readiness path."""

    name: str
    command: str
    env: dict[str, str]
    port: int
    log: Path
    args: tuple[str, ...] = ()
    cwd: Path | None = None
    ready_path: str = "/readyz"
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def tail(self, lines: int = 40) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def stack_secrets() -> dict[str, str]:
    """Fresh secrets for one stack (never the same twice, never a shipped default)."""
    return {
        "AUTH_JWT_SECRET": secrets.token_urlsafe(32),
        "SYNC_WEBHOOK_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
        "ITSM_SYNC_ENCRYPTION_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
    }


@dataclass
class Stack:
    """Processes sharing `env`; `start` adds one, `kill`/`restart` act on one by name."""

    env: dict[str, str]
    logs: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="rita-stack-")))
    procs: dict[str, Proc] = field(default_factory=dict)

    def start(
        self,
        name: str,
        command: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        *,
        args: Sequence[str | Path] = (),
        cwd: Path | None = None,
        ready_path: str = "/readyz",
        wait: bool = True,
    ) -> Proc:
        """Start `command` as process `name` on a free port (`PORT`, and `{port}` in `args`).

        `command` is a console script of this workspace (default `name`) or an executable's
        absolute path; `cwd` is where it runs (default: here); it is ready once `ready_path`
        answers 200.
        """
        port = free_port()
        proc = Proc(
            name=name,
            command=str(command or name),
            env={**self.env, **(env or {}), "PORT": str(port), "HOST": "127.0.0.1"},
            port=port,
            log=self.logs / f"{name}.log",
            args=tuple(str(a).replace(PORT_ARG, str(port)) for a in args),
            cwd=cwd,
            ready_path=ready_path,
        )
        self.procs[name] = proc
        self._spawn(proc)
        if wait:
            self.wait_ready(name)
        return proc

    def _spawn(self, proc: Proc) -> None:
        executable = Path(proc.command)
        if not executable.is_absolute():
            executable = BIN / proc.command
        with proc.log.open("ab") as out:
            # A console script of this workspace or a test's own program, never user input.
            proc.process = subprocess.Popen(  # noqa: S603
                [str(executable), *proc.args],
                env={**os.environ, **proc.env},
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=proc.cwd,
            )

    def wait_ready(
        self, *names: str, path: str | None = None, within: float = READY_TIMEOUT
    ) -> None:
        """Until every named process (default: all) answers 200 on `path` (default: its own)."""
        pending = [self.procs[n] for n in (names or tuple(self.procs))]
        deadline = time.monotonic() + within
        with httpx.Client(timeout=2) as client:
            while pending:
                for proc in list(pending):
                    if not proc.alive():
                        raise RuntimeError(f"{proc.name} exited during start-up:\n{proc.tail()}")
                    with contextlib.suppress(httpx.HTTPError):
                        if client.get(proc.url + (path or proc.ready_path)).status_code == 200:
                            pending.remove(proc)
                if pending and time.monotonic() > deadline:
                    names_left = ", ".join(p.name for p in pending)
                    raise RuntimeError(
                        f"not ready after {within}s: {names_left}\n{pending[0].tail()}"
                    )
                if pending:
                    time.sleep(0.1)

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> int | None:
        """Send `sig` and wait for the process to end; answers its exit code."""
        proc = self.procs[name]
        if proc.process is None or proc.process.poll() is not None:
            return proc.process.returncode if proc.process else None
        proc.process.send_signal(sig)
        try:
            return proc.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.process.kill()
            return proc.process.wait()

    def restart(self, name: str, *, wait: bool = True) -> Proc:
        """Start a stopped process again with the same port and environment."""
        proc = self.procs[name]
        if proc.alive():
            self.kill(name, signal.SIGTERM)
        self._spawn(proc)
        if wait:
            self.wait_ready(name)
        return proc

    def logs_text(self, exclude: frozenset[str] = frozenset()) -> str:
        """Every process's log but those named in `exclude`, concatenated (leak scans)."""
        return "\n".join(
            p.log.read_text(errors="replace") for p in self.procs.values() if p.name not in exclude
        )

    def stop(self) -> None:
        """SIGTERM every process, SIGKILL what is still running after 15 s."""
        for proc in self.procs.values():
            if proc.process is not None and proc.alive():
                proc.process.terminate()
        for proc in self.procs.values():
            if proc.process is None:
                continue
            try:
                proc.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.process.kill()
                proc.process.wait()

    def close(self) -> None:
        """Stop everything and remove the logs."""
        self.stop()
        shutil.rmtree(self.logs, ignore_errors=True)
