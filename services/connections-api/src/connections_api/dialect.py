"""Webhook dialects: the key names the sync service expects (`SYNC_WEBHOOK_DIALECT`).

- `standard` (default): the contract's payloads (`contracts.webhooks`) as they are.
- `rita`: the key names of Rita's own API, so that this API can drive a sync service written for
  it (issue 14): `jira_itsm` settings `{url, email}` and credentials `{apiToken}`; a sync's
  settings `{url, email, project_keys, time_range_days}` beside `ingestion_run_id`. The fields
  every webhook carries (`source: "rita-chat"`, `action`, `tenant_id`, `user_id`, `user_email`,
  `connection_id`, `connection_type`, `timestamp`) are the same in both. Types whose Rita names
  are not known here are sent with the standard names.

This module is the only place that knows the difference: the outbox stores standard payloads,
and the sender translates each body just before it is signed, so a change of dialect also
applies to webhooks already queued. Signing and `Authorization` are the same in both.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any, Final


class Dialect(StrEnum):
    """`SYNC_WEBHOOK_DIALECT`."""

    STANDARD = "standard"
    RITA = "rita"


def _renamed(data: Any, names: dict[str, str]) -> Any:
    if not isinstance(data, dict):
        return data
    return {names.get(key, key): value for key, value in data.items()}


def _rita_jira_itsm(body: dict[str, Any]) -> dict[str, Any]:
    body["settings"] = _renamed(body.get("settings"), {"base_url": "url"})
    if "credentials" in body:
        # Rita's console sends the email once, in the settings; the token alone is the secret.
        credentials = body["credentials"] if isinstance(body["credentials"], dict) else {}
        body["credentials"] = {"apiToken": credentials.get("api_token")}
    return body


# Per connection type: how a standard body becomes Rita's.
_RITA: Final[dict[str, Callable[[dict[str, Any]], dict[str, Any]]]] = {
    "jira_itsm": _rita_jira_itsm,
}


def translate(payload: dict[str, Any], dialect: Dialect) -> dict[str, Any]:
    """The body to send for `payload` (a standard webhook body) in `dialect`."""
    if dialect is Dialect.STANDARD:
        return payload
    rename = _RITA.get(str(payload.get("connection_type")))
    return rename(dict(payload)) if rename else payload
