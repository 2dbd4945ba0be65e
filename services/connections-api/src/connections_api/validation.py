"""Input checks of `settings`, `config` and `credentials` (per-type models, size, URL policy).

Every refusal is a 422 problem whose `errors[].loc` names the field (`["body", "config",
"project_keys", 0]`), never the value (a value may be a secret).
"""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from connections_api.errors import InvalidInput, UnsafeUrl, safe_errors
from connections_api.state import AppState
from contracts import (
    MAX_JSON_BYTES,
    ConnectionConfig,
    ConnectionCredentials,
    DataSourceType,
    UnsafeUrlError,
    canonical_keys,
    check_outbound_url,
    config_model_for,
    json_size,
    scope_choices,
    settings_model_for,
)

M = TypeVar("M", bound=BaseModel)
_URL_KEYS = ("base_url", "instance_url")


def _validate(model: type[M], data: dict[str, Any], where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(f"Invalid {where}", errors=safe_errors(exc, ("body", where))) from None


def _refuse_oversized(data: Any, where: str) -> None:
    if json_size(data) > MAX_JSON_BYTES:
        raise InvalidInput(
            f"{where} is larger than {MAX_JSON_BYTES // 1024} KiB",
            errors=[
                {
                    "loc": ["body", where],
                    "msg": f"may hold at most {MAX_JSON_BYTES} bytes of JSON",
                    "type": "too_large",
                }
            ],
        )


async def _check_urls(state: AppState, settings: dict[str, Any]) -> None:
    for key in _URL_KEYS:
        if isinstance(settings.get(key), str):
            try:
                # getaddrinfo blocks: keep it off the event loop.
                await asyncio.to_thread(
                    check_outbound_url,
                    settings[key],
                    state.settings.private_hosts,
                    resolver=state.resolver,
                )
            except UnsafeUrlError as exc:
                raise UnsafeUrl(f"{key}: {exc}") from None


def settings_input(kind: DataSourceType, data: dict[str, Any]) -> dict[str, Any]:
    """Given settings with Rita's input names (`url`) renamed to ours (`base_url`)."""
    return canonical_keys(settings_model_for(kind), data)


async def valid_settings(
    state: AppState, kind: DataSourceType, data: dict[str, Any]
) -> dict[str, Any]:
    """Settings checked with the type's model, the size cap and the URL policy, as stored."""
    _refuse_oversized(data, "settings")
    settings = _validate(settings_model_for(kind), data, "settings")
    stored = settings.model_dump(mode="json", exclude_none=True)
    await _check_urls(state, stored)
    return stored


def valid_config(kind: DataSourceType, data: dict[str, Any], options: Any) -> dict[str, Any]:
    """Config checked with the type's model and the size cap; a scope may only name ids that
    the last verification found (`latest_options`). Empty config means everything."""
    _refuse_oversized(data, "config")
    config = _validate(config_model_for(kind), data, "config")
    stored = config.model_dump(mode="json")
    scope = config.scope() if isinstance(config, ConnectionConfig) else None
    if scope is None:
        return stored
    key, ids = scope
    known = scope_choices(kind, options) or set()
    unknown = [
        {
            "loc": ["body", "config", key, index],
            "msg": "not among what the last verification found; verify again to refresh",
            "type": "unknown_id",
        }
        for index, item in enumerate(ids)
        if item not in known
    ]
    if unknown:
        raise InvalidInput("Invalid config", errors=unknown)
    return {key: list(dict.fromkeys(ids))} if ids else {}


def valid_credentials(
    model: type[ConnectionCredentials], data: dict[str, Any], settings: dict[str, Any]
) -> ConnectionCredentials:
    """Credentials checked with the type's model.

    A credentials field the settings already hold under the same name (Jira's `email`,
    ServiceNow's `username`) may be left out: Rita's console sends the Jira email only once,
    in the settings.
    """
    filled = {
        name: settings[name] for name in model.model_fields if name in settings and name not in data
    }
    return _validate(model, {**filled, **data}, "credentials")
