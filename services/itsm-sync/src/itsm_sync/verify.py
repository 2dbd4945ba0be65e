"""`verify_credentials`: prove the credentials against Jira, store them, report the options."""

from __future__ import annotations

from typing import Any

import structlog
from pydantic import ValidationError

from contracts import (
    REVEAL_SECRETS,
    DataSourceType,
    JiraItsmCredentials,
    JiraItsmSettings,
    UnsafeUrlError,
    VerificationMessage,
    VerifyCredentialsWebhook,
    check_outbound_url,
    describe_validation_error,
)
from itsm_sync.crypto import credential_aad
from itsm_sync.deps import Deps
from itsm_sync.jira import JiraClient, JiraError

log = structlog.get_logger(__name__)

SERVICENOW_UNSUPPORTED = "ServiceNow is not supported by this sync service"


def _failed(hook: VerifyCredentialsWebhook, error: str, code: str | None) -> VerificationMessage:
    return VerificationMessage(
        tenant_id=hook.tenant_id,
        connection_id=hook.connection_id,
        status="failed",
        error=error,
        error_detail={"error_code": code} if code else None,
    )


def internal_failure(hook: VerifyCredentialsWebhook) -> VerificationMessage:
    """The answer when verification broke on our side (never says why: the reason may leak)."""
    return _failed(hook, "The sync service could not complete the verification; try again", None)


def _unique(items: list[dict[str, Any]], key: str) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for item in items:
        if item.get(key) is not None:
            seen.setdefault(str(item[key]), {key: str(item[key]), "name": str(item.get("name"))})
    return list(seen.values())


class _Refused(Exception):
    """The webhook cannot be verified as given (unsupported type, bad settings or URL)."""


def _inputs(
    hook: VerifyCredentialsWebhook, deps: Deps
) -> tuple[JiraItsmSettings, JiraItsmCredentials]:
    if hook.connection_type == DataSourceType.SERVICENOW:
        raise _Refused(SERVICENOW_UNSUPPORTED)
    if hook.connection_type != DataSourceType.JIRA_ITSM:
        raise _Refused(f"{hook.connection_type.value} is not supported by this sync service")
    credentials = hook.credentials
    if not isinstance(credentials, JiraItsmCredentials):
        raise _Refused("Jira needs an email and an API token")
    try:
        settings = JiraItsmSettings.model_validate(hook.settings)
    except ValidationError as exc:
        raise _Refused(f"Invalid Jira settings: {describe_validation_error(exc)}") from None
    try:
        check_outbound_url(settings.base_url, deps.settings.allowed_private_hosts)
    except UnsafeUrlError as exc:
        raise _Refused(f"The Jira URL may not be called: {exc}") from None
    return settings, credentials


async def check_credentials(hook: VerifyCredentialsWebhook, deps: Deps) -> VerificationMessage:
    """Check, store on success, and return the message to publish (never raises JiraError)."""
    try:
        settings, credentials = _inputs(hook, deps)
    except _Refused as exc:
        return _failed(hook, str(exc), None)
    client = JiraClient(
        deps.http, settings.base_url, credentials.email, credentials.api_token, deps.verify_policy
    )
    try:
        await client.myself()
        projects = await client.projects()
        issue_types = await client.issue_types()
        statuses = await client.statuses()
    except JiraError as exc:
        log.info("verification_failed", error=exc.message, error_code=exc.code)
        return _failed(hook, exc.message, exc.code)
    key = (hook.tenant_id, hook.connection_id, hook.connection_type.value)
    secret = credentials.model_dump_json(context=REVEAL_SECRETS).encode()
    ciphertext = deps.cipher.encrypt(secret, credential_aad(*(str(part) for part in key)))
    await deps.store.save_credentials(
        key, settings.base_url, settings.model_dump(mode="json"), ciphertext
    )
    options = {
        "projects": [
            {"key": str(p.get("key")), "name": str(p.get("name"))} for p in projects if p.get("key")
        ],
        "issue_types": _unique(issue_types, "id"),
        "statuses": _unique(statuses, "id"),
    }
    log.info("verification_succeeded", projects=len(options["projects"]))
    return VerificationMessage(
        tenant_id=hook.tenant_id,
        connection_id=hook.connection_id,
        status="success",
        options=options,
    )
