"""The lifespan state shape every Rita service follows.

The `lifespan` builds ONE object holding the process's shared resources (a dataclass: settings,
engine, clients, background tasks' signals), stores it with `set_service_state(app, state)`
before it yields, and closes it after. Requests reach it only through a dependency built on
`service_state(request, StateType)`; routes never read `request.app.state` themselves. Tests
reach it with `service_state(app, StateType)` once the lifespan ran.
"""

from __future__ import annotations

from typing import TypeVar

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

StateT = TypeVar("StateT")
STATE_ATTRIBUTE = "service"


def set_service_state(app: Starlette, state: object) -> None:
    """Publish the lifespan's state object on `app` (call before the lifespan yields)."""
    setattr(app.state, STATE_ATTRIBUTE, state)


def service_state(source: HTTPConnection | Starlette, kind: type[StateT]) -> StateT:
    """The state object of the app serving `source` (a request, or the app itself)."""
    app = source.app if isinstance(source, HTTPConnection) else source
    state = getattr(app.state, STATE_ATTRIBUTE, None)
    if not isinstance(state, kind):
        raise RuntimeError(f"no {kind.__name__} on the app: has its lifespan run?")
    return state
