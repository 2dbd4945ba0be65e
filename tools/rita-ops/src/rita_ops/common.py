"""What every rita-ops command shares: options and one way to report a failure."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine
from typing import Annotated, Any, TypeVar
from uuid import UUID

import typer
from aiormq.exceptions import AMQPError
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from rita_ops.database import OpsError

T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
TenantOpt = Annotated[UUID | None, typer.Option("--tenant", help="Only this tenant's items.")]
DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Say what would change; change nothing.")
]
LimitOpt = Annotated[int, typer.Option("--limit", min=1, max=10_000, help="At most this many.")]

# `scheme://user:password@host`: errors of the drivers may quote a URL; its password never shows.
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]*@", re.IGNORECASE)


def redacted(text: str) -> str:
    """`text` with every URL's user and password replaced, at most 500 characters."""
    return _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}***@", text)[:500]


def run_command(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run one command's work; a refusal or a failure becomes one line on stderr and status 1."""
    try:
        return asyncio.run(coroutine)
    except OpsError as exc:
        typer.echo(f"rita-ops: {exc}", err=True)
        raise typer.Exit(1) from None
    except (OSError, ConnectionError, TimeoutError, SQLAlchemyError, AMQPError, RedisError) as exc:
        # A server is down or refused us: say which error, without a traceback or a credential.
        typer.echo(f"rita-ops: {type(exc).__name__}: {redacted(str(exc))}", err=True)
        raise typer.Exit(1) from None


def fail_usage(message: str) -> typer.Exit:
    """Print a usage error; raise the returned exit (status 2)."""
    typer.echo(f"rita-ops: {message}", err=True)
    return typer.Exit(2)
