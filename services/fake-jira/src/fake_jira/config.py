"""Configuration: `FAKE_JIRA_*` environment variables, overridable by CLI flags."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from emulator.settings import EmulatorSettings, Flag

DEV_ACCOUNTS = "admin@example.com:fake-jira-token"
NO_BROWSE = "nobrowse"  # account flag: authenticates, but may not browse projects (403)


class FakeJiraConfig(EmulatorSettings):
    """Everything that shapes the emulator: data set, accounts, limits and faults."""

    model_config = SettingsConfigDict(
        env_prefix="FAKE_JIRA_", extra="ignore", populate_by_name=True
    )
    ACCOUNT_FLAGS: ClassVar[tuple[str, ...]] = (NO_BROWSE,)

    # Every interface, like the other services (containers reach it as fake-jira:8004).
    host: str = Field(
        default="0.0.0.0",  # noqa: S104
        validation_alias=AliasChoices("HOST", "FAKE_JIRA_HOST"),
    )
    port: int = Field(default=8004, validation_alias=AliasChoices("PORT", "FAKE_JIRA_PORT"))
    # Accounts in `email:token[:nobrowse]` form, comma separated.
    accounts: str = DEV_ACCOUNTS
    # Data set sizes (seed, span and anchor are every emulator's: EmulatorSettings).
    issues: int = Field(default=2000, ge=0, le=1_000_000)
    projects: int = Field(default=4, ge=1, le=8)
    # Largest page the searches serve when more than id/key is requested (Jira caps it too).
    max_results_cap: int = Field(default=100, ge=1, le=5000)


JIRA_FLAGS: tuple[Flag, ...] = (
    Flag("issues", int, "number of issues"),
    Flag("projects", int, "number of projects, 1-8"),
    Flag("max-results-cap", int, "largest search page"),
)
