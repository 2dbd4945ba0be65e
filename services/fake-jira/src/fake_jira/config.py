"""Configuration: `FAKE_JIRA_*` environment variables, overridable by CLI flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_ACCOUNTS = "admin@example.com:fake-jira-token"


@dataclass(frozen=True)
class Account:
    """One configured Jira account (Basic auth email + API token)."""

    email: str
    token: str
    can_browse: bool = True


def parse_accounts(spec: str) -> tuple[Account, ...]:
    """Parse `email:token[:nobrowse][,email:token...]` into accounts."""
    accounts: list[Account] = []
    for raw in spec.split(","):
        item = raw.strip()
        if not item:
            continue
        parts = item.split(":")
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise ValueError(
                "FAKE_JIRA_ACCOUNTS entries must look like email:token or email:token:nobrowse"
            )
        if len(parts) == 3 and parts[2] != "nobrowse":
            raise ValueError(f"FAKE_JIRA_ACCOUNTS: unknown account flag {parts[2]!r}")
        accounts.append(Account(parts[0], parts[1], can_browse=len(parts) == 2))
    return tuple(accounts)


class FakeJiraConfig(BaseSettings):
    """Everything that shapes the emulator: data set, accounts, limits and faults."""

    model_config = SettingsConfigDict(
        env_prefix="FAKE_JIRA_", extra="ignore", populate_by_name=True
    )

    # Every interface, like the other services (containers reach it as fake-jira:8004).
    host: str = Field(
        default="0.0.0.0",  # noqa: S104
        validation_alias=AliasChoices("HOST", "FAKE_JIRA_HOST"),
    )
    port: int = Field(default=8004, validation_alias=AliasChoices("PORT", "FAKE_JIRA_PORT"))
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL"))
    log_format: str = Field(default="json", validation_alias=AliasChoices("LOG_FORMAT"))
    # Accounts in `email:token[:nobrowse]` form, comma separated.
    accounts: str = DEV_ACCOUNTS
    # Data set: the same seed, issue count, span and anchor give byte-identical issues.
    seed: int = 42
    issues: int = Field(default=2000, ge=0, le=1_000_000)
    projects: int = Field(default=4, ge=1, le=8)
    days: float = Field(default=365.0, gt=0)
    # The "now" the data set is anchored at (ISO 8601); default: the moment the app is built.
    now: datetime | None = None
    # Burst limit per account: token bucket of `burst` tokens refilled at `rate_limit`/s (0 = off).
    rate_limit: float = Field(default=0.0, ge=0)
    burst: int | None = Field(default=None, ge=1)
    # Fault injection: added latency (ms, plus uniform jitter) and the share of 5xx answers.
    latency_ms: float = Field(default=0.0, ge=0)
    latency_jitter_ms: float = Field(default=0.0, ge=0)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    error_statuses: str = "500,502,503"
    # Largest page /search/jql serves when more than id/key is requested (Jira caps it too).
    max_results_cap: int = Field(default=100, ge=1, le=5000)
    # Public base URL used in `self` links; default: derived from each request.
    public_url: str | None = None

    @field_validator("accounts")
    @classmethod
    def _valid_accounts(cls, value: str) -> str:
        parse_accounts(value)
        return value

    @field_validator("error_statuses")
    @classmethod
    def _valid_statuses(cls, value: str) -> str:
        codes = [int(part) for part in value.split(",") if part.strip()]
        if not codes or any(not 500 <= code <= 599 for code in codes):
            raise ValueError("FAKE_JIRA_ERROR_STATUSES must list 5xx codes, e.g. 500,502,503")
        return value

    def account_list(self) -> tuple[Account, ...]:
        """The parsed accounts."""
        return parse_accounts(self.accounts)

    def error_status_list(self) -> tuple[int, ...]:
        """The 5xx codes fault injection picks from."""
        return tuple(int(part) for part in self.error_statuses.split(",") if part.strip())

    def bucket_size(self) -> int:
        """Burst capacity: explicit, else one second's worth of requests (at least 1)."""
        return self.burst if self.burst is not None else max(1, round(self.rate_limit))

    def anchor(self) -> datetime:
        """The data set's "now" (timezone aware, UTC)."""
        now = self.now or datetime.now(UTC).replace(microsecond=0)
        return now if now.tzinfo else now.replace(tzinfo=UTC)
