"""What the webhook handlers need, built once per process."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from itsm_sync.config import Settings
from itsm_sync.connectors.base import Site
from itsm_sync.connectors.http import RetryPolicy
from itsm_sync.crypto import CredentialCipher
from itsm_sync.db.store import Store
from itsm_sync.publisher import StatusPublisher


@dataclass(frozen=True)
class Deps:
    """Shared clients and settings (one httpx client, one broker connection, one pool)."""

    settings: Settings
    store: Store
    cipher: CredentialCipher
    http: httpx.AsyncClient
    publisher: StatusPublisher

    @property
    def retry_policy(self) -> RetryPolicy:
        """Retry bounds for calls to an ITSM system during imports."""
        s = self.settings
        return RetryPolicy(
            max_retries=s.itsm_sync_max_retries,
            max_rate_limit_retries=s.itsm_sync_max_rate_limit_retries,
            max_backoff=s.itsm_sync_max_backoff,
        )

    @property
    def verify_policy(self) -> RetryPolicy:
        """Fewer retries while an admin waits for Verify (a dead site fails in seconds)."""
        policy = self.retry_policy
        return RetryPolicy(
            max_retries=min(2, policy.max_retries),
            max_rate_limit_retries=min(5, policy.max_rate_limit_retries),
            max_backoff=min(5.0, policy.max_backoff),
        )

    def site(self, *, verifying: bool = False) -> Site:
        """What a connector needs to call its system (the allow-list is read on every call)."""
        policy = self.verify_policy if verifying else self.retry_policy
        return Site(self.http, self.settings.private_hosts, policy)
