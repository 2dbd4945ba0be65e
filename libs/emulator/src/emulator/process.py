"""Child processes: an emulator's console script (URL learnt from its own log), and
third-party clients in isolated environments from PyPI (`isolated_run`).

The child is started with `--port 0`: the kernel picks a free port and uvicorn logs the one it
bound ("Uvicorn running on http://127.0.0.1:NNNN"), so there is no probe-then-bind race. With
`--tls`, the `tls_ready` log line names the certificate authority to trust.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import signal
import subprocess
import sys
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

    The URL comes from uvicorn's INFO line, so the child must log at INFO (`LOG_LEVEL`).

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


class IsolatedRunError(RuntimeError):
    """A third-party client could not be installed or run in its isolated environment."""


def isolated_command(
    requirements: Sequence[str],
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
) -> tuple[list[str], dict[str, str] | None]:
    """The argv (and env) that runs `command` in a throwaway environment holding only
    `requirements` from PyPI: `uv run --isolated --no-project --python 3.X --with ...`."""
    uv = shutil.which("uv")
    if uv is None:
        raise IsolatedRunError("`uv` is not on PATH: it installs the isolated client from PyPI")
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    argv = [uv, "run", "--isolated", "--no-project", "--python", python]
    for requirement in requirements:
        argv += ["--with", requirement]
    return [*argv, *command], dict(env) if env is not None else None


def isolated_run(
    requirements: Sequence[str],
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 600.0,
) -> str:
    """Run `command` in a throwaway environment holding only `requirements` (from PyPI, via
    `uv run --isolated --no-project --with ...`); answer its stdout.

    Used to judge the emulators with clients nobody here wrote. Raises `IsolatedRunError`
    naming the requirements and quoting the tail of the output when the install or the run
    fails, so a machine without PyPI gets a clear failure rather than a silent skip.
    """
    argv, child_env = isolated_command(requirements, command, env=env)
    try:
        result = subprocess.run(  # noqa: S603 - argv is built here from the caller's code
            argv,
            env=child_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise IsolatedRunError(f"{' '.join(command)} timed out after {timeout} s") from exc
    if result.returncode != 0:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-25:])
        hint = ""
        if any(word in tail for word in ("pypi.org", "Failed to fetch", "dns error", "Network")):
            hint = " (PyPI looks unreachable: these fidelity checks need it)"
        raise IsolatedRunError(
            f"isolated run of {' '.join(command)} with {', '.join(requirements)} failed "
            f"(exit {result.returncode}){hint}:\n{tail}"
        )
    return result.stdout
