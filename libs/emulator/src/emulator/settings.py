"""Settings every emulator shares, and the env-then-flags loader with a readable error line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from emulator.accounts import Account, parse_accounts


class EmulatorSettings(BaseSettings):
    """Accounts, the data set's seed, span and anchor, limits, faults, TLS. Subclasses set
    `env_prefix`, `host`, `port`, the default `accounts`, `ACCOUNT_FLAGS` and their counts."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)
    ACCOUNT_FLAGS: ClassVar[tuple[str, ...]] = ()

    host: str = "127.0.0.1"
    port: int = 0
    log_level: str = Field(default="INFO", validation_alias=AliasChoices("LOG_LEVEL"))
    log_format: str = Field(default="json", validation_alias=AliasChoices("LOG_FORMAT"))
    # `login:secret[:flag...]`, comma separated.
    accounts: str = ""
    # The data set: the same seed, counts, span and anchor give byte-identical records.
    seed: int = 42
    # Records are last updated within this many days before the anchor.
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
    # Public base URL used in links; default: derived from each request.
    public_url: str | None = None
    # Serve HTTPS with a throwaway certificate authority generated at start; its certificate
    # (what a client must trust) is written to `tls_ca_file` (default: a temp file, logged).
    tls: bool = False
    tls_ca_file: str | None = None

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable a field is read from (for error messages)."""
        info = cls.model_fields.get(field)
        alias = info.validation_alias if info else None
        if isinstance(alias, AliasChoices):
            return str(alias.choices[-1])
        return f"{cls.model_config.get('env_prefix', '')}{field.upper()}"

    @field_validator("accounts")
    @classmethod
    def _valid_accounts(cls, value: str) -> str:
        parse_accounts(value, variable=cls.env_name("accounts"), flags=cls.ACCOUNT_FLAGS)
        return value

    @field_validator("error_statuses")
    @classmethod
    def _valid_statuses(cls, value: str) -> str:
        try:
            codes = [int(part) for part in value.split(",") if part.strip()]
        except ValueError:
            codes = []
        if not codes or any(not 500 <= code <= 599 for code in codes):
            raise ValueError("must list 5xx codes, e.g. 500,502,503")
        return value

    def account_list(self) -> tuple[Account, ...]:
        """The parsed accounts."""
        return parse_accounts(
            self.accounts, variable=self.env_name("accounts"), flags=self.ACCOUNT_FLAGS
        )

    def error_status_list(self) -> tuple[int, ...]:
        """The 5xx codes fault injection picks from."""
        return tuple(int(part) for part in self.error_statuses.split(",") if part.strip())

    def bucket_size(self) -> int:
        """Burst capacity: explicit, else one second's worth of requests (at least 1)."""
        return self.burst if self.burst is not None else max(1, round(self.rate_limit))


S = TypeVar("S", bound=EmulatorSettings)


@dataclass(frozen=True)
class Flag:
    """A command-line flag overriding the setting of the same name (dashes for underscores)."""

    name: str
    kind: type
    help: str


COMMON_FLAGS: tuple[Flag, ...] = (
    Flag("host", str, "interface to bind"),
    Flag("port", int, "port to listen on"),
    Flag("accounts", str, "login:secret[:flag],... accounts"),
    Flag("seed", int, "data set and fault seed"),
    Flag("days", float, "records are updated within this many days"),
    Flag("now", str, "ISO time the data set is anchored at (default: start time)"),
    Flag("rate-limit", float, "burst limit per account, requests/s; 0 = off"),
    Flag("burst", int, "token bucket size (default: one second's worth)"),
    Flag("latency-ms", float, "added latency per request"),
    Flag("latency-jitter-ms", float, "extra uniform latency jitter"),
    Flag("error-rate", float, "share of requests answered 5xx, 0-1"),
    Flag("error-statuses", str, "5xx codes to inject, e.g. 500,502,503"),
    Flag("public-url", str, "base URL for links in answers"),
    Flag("tls", bool, "serve HTTPS with a throwaway self-signed certificate authority"),
    Flag("tls-ca-file", str, "where to write that authority's certificate (PEM)"),
)


def load_settings(
    cls: type[S],
    argv: Sequence[str] | None,
    *,
    prog: str,
    description: str,
    flags: Sequence[Flag] = (),
) -> S:
    """Environment first, flags override; a bad value exits with one line naming its variable."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    for flag in (*COMMON_FLAGS, *flags):
        env = cls.env_name(flag.name.replace("-", "_"))
        text = f"{flag.help} ({env})"
        if flag.kind is bool:
            parser.add_argument(f"--{flag.name}", action="store_true", default=None, help=text)
        else:
            parser.add_argument(f"--{flag.name}", type=flag.kind, default=None, help=text)
    given = {
        key: value for key, value in vars(parser.parse_args(argv)).items() if value is not None
    }
    try:
        return cls.model_validate(cls().model_dump() | given)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]) if error["loc"] else "configuration"
        message = str(error["msg"]).removeprefix("Value error, ")
        print(f"{prog}: invalid {cls.env_name(name)}: {message}", file=sys.stderr)  # noqa: T201
        raise SystemExit(2) from None


def overridden(settings: S | None, cls: type[S], overrides: dict[str, Any]) -> S:
    """`settings` (or the environment's) with keyword overrides applied and validated."""
    if settings is None:
        return cls(**overrides)
    if not overrides:
        return settings
    return cls.model_validate(settings.model_dump() | overrides)
