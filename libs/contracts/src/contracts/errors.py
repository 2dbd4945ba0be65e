"""Error codes that cross a process boundary (status messages, stored rows, API, console).

Texts are for people and may change; codes are stable and the console translates them.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class ErrorCode(StrEnum):
    """A failure's stable code: `last_verification_error_code` and `ingestion_runs.error_code`.

    A sync service reports one in `error_detail.error_code`; Rita's own code paths (reaper,
    outbox relay, cancel) use the same vocabulary.
    """

    AUTH_FAILED = "auth_failed"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    UNREACHABLE = "unreachable"
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"
    VERIFICATION_TIMEOUT = "verification_timeout"
    TICKETS_BELOW_THRESHOLD = "tickets_below_threshold"
    CANCELLED_BY_USER = "cancelled_by_user"
    INTERNAL = "internal"


# Failures that mean "the stored credentials no longer work": the console offers "re-verify".
CREDENTIAL_ERROR_CODES: Final[frozenset[ErrorCode]] = frozenset(
    {ErrorCode.AUTH_FAILED, ErrorCode.FORBIDDEN}
)

# Codes that earlier sync services (and this project before the second wave) sent.
_LEGACY_CODES: Final[dict[str, ErrorCode]] = {
    "authentication_failed": ErrorCode.AUTH_FAILED,
    "permission_denied": ErrorCode.FORBIDDEN,
    "instance_unavailable": ErrorCode.UNREACHABLE,
    "timed_out": ErrorCode.TIMEOUT,
}


def parse_error_code(raw: object) -> ErrorCode | None:
    """The known code a message names (legacy spellings mapped), or None for anything else."""
    if not isinstance(raw, str):
        return None
    try:
        return ErrorCode(raw)
    except ValueError:
        return _LEGACY_CODES.get(raw)
