"""Configuration: `FAKE_SERVICENOW_*` environment variables, overridable by CLI flags."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from emulator.settings import EmulatorSettings, Flag

DEV_USER = "admin"
DEV_PASSWORD = "fake-servicenow-password"  # noqa: S105 - the emulator's published dev account
# An account that authenticates but may not read incidents (403), for verify's failure path.
NO_INCIDENTS_USER = "no.incidents"
NO_INCIDENTS_PASSWORD = "fake-servicenow-password"  # noqa: S105
NO_INCIDENTS = "noincidents"
DEV_ACCOUNTS = (
    f"{DEV_USER}:{DEV_PASSWORD},{NO_INCIDENTS_USER}:{NO_INCIDENTS_PASSWORD}:{NO_INCIDENTS}"
)


class FakeServiceNowSettings(EmulatorSettings):
    """Everything that shapes the emulator: data set, accounts, limits, faults and churn."""

    model_config = SettingsConfigDict(
        env_prefix="FAKE_SERVICENOW_", extra="ignore", populate_by_name=True
    )
    ACCOUNT_FLAGS: ClassVar[tuple[str, ...]] = (NO_INCIDENTS,)

    # Every interface, like the other services (containers reach it as fake-servicenow:8005).
    host: str = Field(
        default="0.0.0.0",  # noqa: S104
        validation_alias=AliasChoices("HOST", "FAKE_SERVICENOW_HOST"),
    )
    port: int = Field(default=8005, validation_alias=AliasChoices("PORT", "FAKE_SERVICENOW_PORT"))
    # Accounts in `user:password[:noincidents]` form, comma separated.
    accounts: str = DEV_ACCOUNTS
    # Data set sizes (seed, span and anchor are every emulator's: EmulatorSettings).
    incidents: int = Field(default=2000, ge=0, le=1_000_000)
    groups: int = Field(default=6, ge=1, le=12)
    # Largest page the Table API serves (ServiceNow's default sysparm_limit is 10,000).
    max_limit: int = Field(default=10_000, ge=1, le=100_000)
    # Incidents updated (sys_updated_on bumped to now) after each incident page is served.
    churn_per_page: int = Field(default=0, ge=0)


SERVICENOW_FLAGS: tuple[Flag, ...] = (
    Flag("incidents", int, "number of incidents"),
    Flag("groups", int, "number of assignment groups, 1-12"),
    Flag("max-limit", int, "largest sysparm_limit served"),
    Flag("churn-per-page", int, "incidents updated after each incident page"),
)
