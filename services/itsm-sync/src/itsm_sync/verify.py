"""`verify_credentials`: prove the credentials with the type's connector, store them, report."""

from __future__ import annotations

import structlog

from contracts import REVEAL_SECRETS, ErrorCode, VerificationMessage, VerifyCredentialsWebhook
from itsm_sync.connectors import connector_for
from itsm_sync.connectors.base import Refused
from itsm_sync.connectors.errors import ConnectorError
from itsm_sync.crypto import credential_aad
from itsm_sync.deps import Deps

log = structlog.get_logger(__name__)


def _message(hook: VerifyCredentialsWebhook, **fields: object) -> VerificationMessage:
    # The webhook's verification id goes back with the result, so Rita can tell an answer to an
    # older request from the answer to the latest one (absent in older webhooks: not sent).
    if hook.verification_id is not None:
        fields["verification_id"] = hook.verification_id
    return VerificationMessage.model_validate(
        {"tenant_id": hook.tenant_id, "connection_id": hook.connection_id, **fields}
    )


def _failed(
    hook: VerifyCredentialsWebhook, error: str, code: ErrorCode | None
) -> VerificationMessage:
    return _message(
        hook,
        status="failed",
        error=error,
        error_detail={"error_code": code.value} if code else None,
    )


def internal_failure(hook: VerifyCredentialsWebhook) -> VerificationMessage:
    """The answer when verification broke on our side (never says why: the reason may leak)."""
    return _failed(
        hook, "The sync service could not complete the verification; try again", ErrorCode.INTERNAL
    )


async def check_credentials(hook: VerifyCredentialsWebhook, deps: Deps) -> VerificationMessage:
    """Check, store on success, and return the message to publish (never raises ConnectorError)."""
    connector = connector_for(hook.connection_type.value)
    if connector is None:
        return _failed(
            hook, f"{hook.connection_type.value} is not supported by this sync service", None
        )
    try:
        verified = await connector.verify(
            hook.settings, hook.credentials, deps.site(verifying=True)
        )
    except Refused as exc:
        return _failed(hook, exc.message, exc.code)
    except ConnectorError as exc:
        log.info("verification_failed", error=exc.message, error_code=exc.code)
        return _failed(hook, exc.message, exc.code)
    key = (hook.tenant_id, hook.connection_id, hook.connection_type.value)
    secret = verified.credentials.model_dump_json(context=REVEAL_SECRETS).encode()
    ciphertext = deps.cipher.encrypt(secret, credential_aad(*(str(part) for part in key)))
    await deps.store.save_credentials(key, verified.base_url, verified.settings, ciphertext)
    log.info("verification_succeeded", connector=connector.name)
    return _message(hook, status="success", options=verified.options)
