"""Start-up configuration errors: one readable line naming the variables, never their values."""

from __future__ import annotations

import gc
import sys
from collections.abc import Callable
from typing import TypeVar

from pydantic import ValidationError

SettingsT = TypeVar("SettingsT")


def describe_settings_error(service: str, exc: ValidationError) -> str:
    """`service: configuration error: VAR is required; OTHER: reason` (no input values)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        name = "_".join(str(part) for part in error["loc"]).upper()
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "missing":
            parts.append(f"{name} is required")
        else:
            parts.append(f"{name}: {message}" if name else message)
    return f"{service}: configuration error: " + "; ".join(parts)


def load_settings_or_exit(factory: Callable[[], SettingsT], service: str) -> SettingsT:
    """Build the settings from the environment, or print one line and exit with status 2."""
    try:
        return factory()
    except ValidationError as exc:
        print(describe_settings_error(service, exc), file=sys.stderr)  # noqa: T201 - for operators
        raise SystemExit(2) from None


def freeze_startup_objects(thresholds: tuple[int, int, int] | None = None) -> None:
    """Keep what start-up built (modules, routes, models) out of every later GC pass.

    Those objects live as long as the process: `gc.freeze` moves them out of the collector's
    sight, so a collection walks only what the service allocates while it runs. `thresholds`
    optionally lets young objects die before a collection promotes them (`gc.set_threshold`).
    """
    gc.collect()
    gc.freeze()
    if thresholds is not None:
        gc.set_threshold(*thresholds)
