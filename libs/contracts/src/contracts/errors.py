"""Error codes that cross a process boundary (status messages, API problems, events)."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class SyncErrorCode(StrEnum):
    """Codes a sync service reports in `error_detail.error_code` (and Rita's reaper uses)."""

    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    INSTANCE_UNAVAILABLE = "instance_unavailable"
    TICKETS_BELOW_THRESHOLD = "tickets_below_threshold"
    TIMED_OUT = "timed_out"


# Failures that mean "the stored credentials no longer work": the console offers "re-verify".
CREDENTIAL_ERROR_CODES: Final[frozenset[SyncErrorCode]] = frozenset(
    {SyncErrorCode.AUTHENTICATION_FAILED, SyncErrorCode.PERMISSION_DENIED}
)
