"""Per-type `settings` (stored, never secret) and `credentials` (never stored) models.

Secrets are `SecretStr`: `repr`, `str` and `model_dump_json()` mask them. The one place that needs
the clear value, the `verify_credentials` webhook body, asks for it explicitly with
`model_dump(mode="json", context=REVEAL_SECRETS)`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Final

from pydantic import (
    AliasChoices,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    SerializationInfo,
    StringConstraints,
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


# The most that `settings` or `config` may hold, as compact JSON: every change of a connection
# goes to every console of the tenant (events, SSE), so its size is everyone's cost.
MAX_JSON_BYTES: Final = 16 * 1024
# Import scope: at most this many ids (each at most 255 characters).
MAX_SCOPE_IDS: Final = 1000
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def _normalise_site_url(value: AnyHttpUrl) -> str:
    # Store the site root without a trailing slash so that clients can append REST paths.
    return str(value).rstrip("/")


def _instance_base(value: Any) -> str:
    """`https://acme.service-now.com/` or `…/now/nav/ui/home` → `https://acme.service-now.com`."""
    url = AnyHttpUrl(str(value).strip())
    if url.scheme not in _DEFAULT_PORTS or not url.host:
        raise ValueError("must be an http(s) URL with a host")
    port = f":{url.port}" if url.port and url.port != _DEFAULT_PORTS[url.scheme] else ""
    return f"{url.scheme}://{url.host}{port}"


def json_size(value: Any) -> int:
    """Bytes of `value` as compact JSON (what the size cap measures)."""
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


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

    @field_validator("base_url", mode="before")
    @classmethod
    def _valid_url(cls, value: Any) -> str:
        url = AnyHttpUrl(str(value).strip())
        if url.scheme not in {"http", "https"} or not url.host:
            raise ValueError("must be an http(s) URL with a host")
        return _normalise_site_url(url)


class ServiceNowSettings(ConnectionSettings):
    """ServiceNow instance and account (`servicenow`)."""

    instance_url: str = Field(
        validation_alias=AliasChoices("instance_url", "url"),
        description="The instance base; a path or trailing slash is dropped",
        examples=["https://company.service-now.com"],
    )
    username: str = Field(min_length=1, max_length=255)

    @field_validator("instance_url", mode="before")
    @classmethod
    def _valid_url(cls, value: Any) -> str:
        return _instance_base(value)


class OpenSettings(BaseModel):
    """Settings of the knowledge types this subsystem does not own: kept as given."""

    model_config = ConfigDict(extra="allow", frozen=True)


class ConnectionCredentials(BaseModel):
    """Base of every credentials model."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True, populate_by_name=True
    )


class JiraItsmCredentials(ConnectionCredentials):
    """Jira account email and API token; the token never leaves except to the sync service."""

    email: EmailStr
    # `apiToken`: Rita's console's name for it (issue 14).
    api_token: SecretStr = Field(
        min_length=1, max_length=4096, validation_alias=AliasChoices("api_token", "apiToken")
    )

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

ScopeId = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class ConnectionConfig(BaseModel):
    """Base of every `config` model: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def scope(self) -> tuple[str, list[str]] | None:
        """(key, ids) of the import scope this config holds, or None for a type without one."""
        return None


class JiraItsmConfig(ConnectionConfig):
    """Import scope of `jira_itsm`: project keys; empty means every project."""

    project_keys: list[ScopeId] = Field(default_factory=list, max_length=MAX_SCOPE_IDS)

    def scope(self) -> tuple[str, list[str]] | None:
        """The project keys."""
        return "project_keys", self.project_keys


class ServiceNowConfig(ConnectionConfig):
    """Import scope of `servicenow`: assignment group ids; empty means every group."""

    assignment_group_ids: list[ScopeId] = Field(default_factory=list, max_length=MAX_SCOPE_IDS)

    def scope(self) -> tuple[str, list[str]] | None:
        """The assignment group ids."""
        return "assignment_group_ids", self.assignment_group_ids


class OpenConfig(BaseModel):
    """Config of the knowledge types this subsystem does not own: kept as given (size-capped)."""

    model_config = ConfigDict(extra="allow", frozen=True)


def scope_choices(connection_type: DataSourceType, options: Any) -> set[str] | None:
    """The ids a scope may name: those the last verification found (`latest_options`).

    Jira: `projects[].key` (or, as Rita's sync service sends them, an array of `{key, name}`);
    ServiceNow: `assignment_groups[].id`. None for a type without a scope.
    """
    if connection_type is DataSourceType.JIRA_ITSM:
        items = options.get("projects") if isinstance(options, dict) else options
        field = "key"
    elif connection_type is DataSourceType.SERVICENOW:
        items = options.get("assignment_groups") if isinstance(options, dict) else None
        field = "id"
    else:
        return None
    if not isinstance(items, list):
        return set()
    return {str(i[field]) for i in items if isinstance(i, dict) and i.get(field) is not None}


SETTINGS_MODELS: Final[dict[DataSourceType, type[BaseModel]]] = {
    DataSourceType.JIRA_ITSM: JiraItsmSettings,
    DataSourceType.SERVICENOW: ServiceNowSettings,
}
CREDENTIALS_MODELS: Final[dict[DataSourceType, type[ConnectionCredentials]]] = {
    DataSourceType.JIRA_ITSM: JiraItsmCredentials,
    DataSourceType.SERVICENOW: ServiceNowCredentials,
}


CONFIG_MODELS: Final[dict[DataSourceType, type[ConnectionConfig]]] = {
    DataSourceType.JIRA_ITSM: JiraItsmConfig,
    DataSourceType.SERVICENOW: ServiceNowConfig,
}


def config_model_for(connection_type: DataSourceType) -> type[BaseModel]:
    """The config model of a type (open config for types without a schema here)."""
    return CONFIG_MODELS.get(connection_type, OpenConfig)


def canonical_keys(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """`data` with input aliases (Rita's `url`, `apiToken`) renamed to the model's field names.

    Needed before merging a partial update into stored settings: `{"base_url": old}` merged
    with `{"url": new}` would otherwise keep both, and validation would pick the old one.
    """
    renamed = dict(data)
    for name, field in model.model_fields.items():
        alias = field.validation_alias
        if not isinstance(alias, AliasChoices):
            continue
        for choice in alias.choices:
            if isinstance(choice, str) and choice != name and choice in renamed:
                renamed[name] = renamed.pop(choice)
    return renamed


def settings_model_for(connection_type: DataSourceType) -> type[BaseModel]:
    """The settings model of a type (open settings for types without a schema here)."""
    return SETTINGS_MODELS.get(connection_type, OpenSettings)


def credentials_model_for(connection_type: DataSourceType) -> type[ConnectionCredentials] | None:
    """The credentials model of a type, or None where Rita cannot verify that type."""
    return CREDENTIALS_MODELS.get(connection_type)
