"""Per-type `settings` (stored, never secret) and `credentials` (never stored) models.

Secrets are `SecretStr`: `repr`, `str` and `model_dump_json()` mask them. The one place that needs
the clear value, the `verify_credentials` webhook body, asks for it explicitly with
`model_dump(mode="json", context=REVEAL_SECRETS)`.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import (
    AliasChoices,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    SerializationInfo,
    field_serializer,
    field_validator,
)

from contracts.types import DataSourceType

# Serialisation context that reveals secrets; pass it only where the clear value must leave.
REVEAL_SECRETS: Final[dict[str, bool]] = {"reveal_secrets": True}


def _reveal(value: SecretStr, info: SerializationInfo) -> str:
    context = info.context if isinstance(info.context, dict) else {}
    if context.get("reveal_secrets") is True:
        return value.get_secret_value()
    return str(value)


def _normalise_site_url(value: AnyHttpUrl) -> str:
    # Store the site root without a trailing slash so that clients can append REST paths.
    return str(value).rstrip("/")


class ConnectionSettings(BaseModel):
    """Base of every settings model: unknown keys are refused so no secret slips in."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class JiraItsmSettings(ConnectionSettings):
    """Jira Cloud site and account (`jira_itsm`)."""

    base_url: str = Field(
        validation_alias=AliasChoices("base_url", "url"),
        description="Jira site root, e.g. https://company.atlassian.net",
        examples=["https://company.atlassian.net"],
    )
    email: EmailStr = Field(examples=["user@company.com"])
    project_keys: list[str] | None = Field(
        default=None, description="Optional Jira project keys to limit the import to"
    )

    @field_validator("base_url", mode="before")
    @classmethod
    def _valid_url(cls, value: Any) -> str:
        url = AnyHttpUrl(str(value).strip())
        if url.scheme not in {"http", "https"} or not url.host:
            raise ValueError("must be an http(s) URL with a host")
        return _normalise_site_url(url)


class ServiceNowSettings(ConnectionSettings):
    """ServiceNow instance and account (`servicenow`)."""

    instance_url: str = Field(examples=["https://company.service-now.com"])
    username: str = Field(min_length=1, max_length=255)

    @field_validator("instance_url", mode="before")
    @classmethod
    def _valid_url(cls, value: Any) -> str:
        return _normalise_site_url(AnyHttpUrl(str(value).strip()))


class OpenSettings(BaseModel):
    """Settings of the knowledge types this subsystem does not own: kept as given."""

    model_config = ConfigDict(extra="allow", frozen=True)


class ConnectionCredentials(BaseModel):
    """Base of every credentials model."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class JiraItsmCredentials(ConnectionCredentials):
    """Jira account email and API token; the token never leaves except to the sync service."""

    email: EmailStr
    api_token: SecretStr = Field(min_length=1, max_length=4096)

    @field_serializer("api_token")
    def _serialise_token(self, value: SecretStr, info: SerializationInfo) -> str:
        return _reveal(value, info)


class ServiceNowCredentials(ConnectionCredentials):
    """ServiceNow user name and password."""

    username: str = Field(min_length=1, max_length=255)
    password: SecretStr = Field(min_length=1, max_length=4096)

    @field_serializer("password")
    def _serialise_password(self, value: SecretStr, info: SerializationInfo) -> str:
        return _reveal(value, info)


Credentials = JiraItsmCredentials | ServiceNowCredentials

SETTINGS_MODELS: Final[dict[DataSourceType, type[BaseModel]]] = {
    DataSourceType.JIRA_ITSM: JiraItsmSettings,
    DataSourceType.SERVICENOW: ServiceNowSettings,
}
CREDENTIALS_MODELS: Final[dict[DataSourceType, type[ConnectionCredentials]]] = {
    DataSourceType.JIRA_ITSM: JiraItsmCredentials,
    DataSourceType.SERVICENOW: ServiceNowCredentials,
}


def settings_model_for(connection_type: DataSourceType) -> type[BaseModel]:
    """The settings model of a type (open settings for types without a schema here)."""
    return SETTINGS_MODELS.get(connection_type, OpenSettings)


def credentials_model_for(connection_type: DataSourceType) -> type[ConnectionCredentials] | None:
    """The credentials model of a type, or None where Rita cannot verify that type."""
    return CREDENTIALS_MODELS.get(connection_type)
