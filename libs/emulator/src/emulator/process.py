"""Run an emulator's console script as a child process and learn its URL from its own log.

The child is started with `--port 0`: the kernel picks a free port and uvicorn logs the one it
bound ("Uvicorn running on http://127.0.0.1:NNNN"), so there is no probe-then-bind race. With
`--tls`, the `tls_ready` log line names the certificate authority to trust.
"""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

_RUNNING = re.compile(r"Uvicorn running on (https?://[^\s\"]+)")


@dataclass
class EmulatorProcess:
    """A started emulator process: its base URL, the CA to trust (TLS), its output so far."""

    process: subprocess.Popen[str]
    base_url: str = ""
    ca_file: str | None = None
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        """Everything the process printed so far."""
        return "".join(self.lines)


def _read(child: EmulatorProcess, ready: threading.Event) -> None:
    assert child.process.stdout is not None  # noqa: S101 - started with a pipe
    for line in child.process.stdout:
        child.lines.append(line)
        with contextlib.suppress(ValueError, AttributeError):
            event = json.loads(line)
            if event.get("event") == "tls_ready":
                child.ca_file = event.get("ca_file")
        found = _RUNNING.search(line)
        if found and not child.base_url:
            child.base_url = found.group(1)
            ready.set()
    ready.set()  # the process ended: wake the waiter either way


@contextlib.contextmanager
def emulator_process(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float = 60.0
) -> Iterator[EmulatorProcess]:
    """Start `argv` (which must bind `--port 0`), yield once it serves; SIGTERM it afterwards.

    Raises RuntimeError with the child's output when it exits or stays silent for `timeout`.
    """
    process = subprocess.Popen(  # noqa: S603 - argv comes from the caller's own code
        list(argv),
        env=dict(env) if env is not None else None,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    child = EmulatorProcess(process)
    ready = threading.Event()
    reader = threading.Thread(target=_read, args=(child, ready), daemon=True)
    reader.start()
    try:
        if not ready.wait(timeout) or not child.base_url:
            raise RuntimeError(f"{argv[0]} did not start:\n{child.output()}")
        yield child
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        reader.join(timeout=10)
        if process.stdout:
            process.stdout.close()
