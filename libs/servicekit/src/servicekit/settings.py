"""The settings base of every Rita service (pydantic-settings).

The project's one naming rule: a field's name is its environment variable's name in lower case
(`database_url` ← `DATABASE_URL`), with no `env_prefix`; so a variable reads the same in code,
in `.env.example`, in the READMEs and in deploy/. Names every service shares (DESIGN.md §3:
`DATABASE_URL`, `REDIS_URL`, `AUTH_*`, `LOG_*`, `PORT`, `MAX_BODY_BYTES`) carry no prefix; a
knob that belongs to one service alone starts with that service's name where it could be
mistaken for another's (`GATEWAY_QUEUE_SIZE`, `ITSM_SYNC_PAGE_SIZE`). Secrets are `SecretStr`.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from observability import load_settings_or_exit

KIB = 1024


class ServiceSettings(BaseSettings):
    """Fields every HTTP service has; a service subclasses it and sets its own `port`."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, case_sensitive=False)

    host: str = "0.0.0.0"  # noqa: S104 - a service listens on every interface in containers
    port: int = 8000
    log_level: str = "INFO"
    log_format: Literal["json", "console"] = "json"
    # Request bodies over this are refused with 413 before they are read whole.
    max_body_bytes: int = Field(default=64 * KIB, ge=1)

    @classmethod
    def load(cls, service: str) -> Self:
        """Read the environment, or print one readable line naming the variable and exit 2."""
        return load_settings_or_exit(cls, service)
