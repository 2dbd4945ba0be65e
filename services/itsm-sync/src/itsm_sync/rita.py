"""Rita's own webhook shape → this project's model, and Rita's reply shape (issue 14).

Rita's Node API drives its sync service with the same actions and envelope (`source:
"rita-chat"`, `action`, `tenant_id`, `user_id`, `user_email`, `connection_id`,
`connection_type`, `timestamp`, `ingestion_run_id` for runs) but other key names, and signs
nothing (only `Authorization`):

- `jira_itsm` verify: `settings: {url, email}`, `credentials: {apiToken}`: the email is in the
  settings only;
- `jira_itsm` sync: `settings: {url, email, project_keys, time_range_days}`;
- `servicenow` (connections-api's `rita` dialect): `settings.url` for `instance_url`.

Everything Rita-specific about the request body is in this module: `translate` renames those
keys to this project's names (so `contracts.parse_webhook` and the connectors see one shape), and
says whether the request came in Rita's shape, so it is answered the way Rita's sync service
answers: 200 `{"success": true, "message": ..., "ingestion_run_id": ...}` (the id only for
syncs). A body already in this project's names passes through unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from starlette.responses import JSONResponse

from contracts import SyncTicketsWebhook, WebhookPayload


@dataclass(frozen=True)
class KeyNames:
    """One type's differences: renamed settings and credential keys, account fields moved."""

    settings: dict[str, str]
    credentials: dict[str, str]
    # Fields this project keeps in the credentials that Rita sends in the settings only.
    account: tuple[str, ...] = ()


RITA_KEY_NAMES: Final[dict[str, KeyNames]] = {
    "jira_itsm": KeyNames(
        settings={"url": "base_url"}, credentials={"apiToken": "api_token"}, account=("email",)
    ),
    "servicenow": KeyNames(settings={"url": "instance_url"}, credentials={}, account=("username",)),
}


@dataclass(frozen=True)
class Intake:
    """A webhook body in this project's key names, and whether to answer in Rita's shape."""

    body: dict[str, Any]
    rita: bool


def _renamed(section: dict[str, Any], names: dict[str, str]) -> tuple[dict[str, Any], bool]:
    out = dict(section)
    changed = False
    for theirs, ours in names.items():
        if theirs in out:
            value = out.pop(theirs)
            # This project's name wins when both are sent; Rita's is then dropped either way.
            out.setdefault(ours, value)
            changed = True
    return out, changed


def translate(raw: dict[str, Any], *, signed: bool) -> Intake:
    """`raw` in this project's names; `rita` when it used Rita's names or came unsigned.

    Only connections-api signs, so an unsigned request (accepted by `Authorization` alone) is
    Rita's API, whatever its keys (a `cancel_ingestion` has none that differ).
    """
    names = RITA_KEY_NAMES.get(str(raw.get("connection_type")))
    body = dict(raw)
    rita_keys = False
    if names is not None:
        settings = body.get("settings")
        if isinstance(settings, dict):
            settings, changed = _renamed(settings, names.settings)
            body["settings"] = settings
            rita_keys |= changed
        credentials = body.get("credentials")
        if isinstance(credentials, dict):
            credentials, changed = _renamed(credentials, names.credentials)
            for field in names.account:
                if field not in credentials and isinstance(settings, dict) and field in settings:
                    credentials[field] = settings[field]
                    changed = True
            body["credentials"] = credentials
            rita_keys |= changed
    return Intake(body, rita=rita_keys or not signed)


_STARTED: Final = {
    "verify_credentials": "Credential verification started",
    "sync_tickets": "Ticket sync started",
    "cancel_ingestion": "Ticket sync cancellation requested",
}


def rita_reply(hook: WebhookPayload, *, duplicate: bool = False) -> JSONResponse:
    """Rita's sync service's answer: 200 with `success`, `message` and a sync's run id."""
    message = _STARTED[hook.action]
    if duplicate:
        message = f"{message} (already received: not run again)"
    body: dict[str, object] = {"success": True, "message": message}
    if isinstance(hook, SyncTicketsWebhook):
        body["ingestion_run_id"] = str(hook.ingestion_run_id)
    return JSONResponse(body, status_code=200)
