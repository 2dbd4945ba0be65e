"""Per-type settings and credentials: aliases, validation, and secrets that never serialise."""

import json

import pytest
from pydantic import ValidationError

from contracts import (
    REVEAL_SECRETS,
    DataSourceType,
    JiraItsmCredentials,
    JiraItsmSettings,
    OpenSettings,
    ServiceNowCredentials,
    ServiceNowSettings,
    credentials_model_for,
    settings_model_for,
)

TOKEN = "fake-token-for-tests-0123456789"


def test_jira_settings_accept_url_alias_and_normalise_trailing_slash() -> None:
    settings = JiraItsmSettings.model_validate(
        {"url": "https://company.atlassian.net/", "email": "user@company.com"}
    )
    assert settings.base_url == "https://company.atlassian.net"
    assert settings.model_dump(exclude_none=True) == {
        "base_url": "https://company.atlassian.net",
        "email": "user@company.com",
    }


def test_jira_settings_round_trip() -> None:
    settings = JiraItsmSettings(base_url="https://x.atlassian.net", email="a@b.co")
    assert JiraItsmSettings.model_validate_json(settings.model_dump_json()) == settings


@pytest.mark.parametrize(
    "payload",
    [
        {"base_url": "not a url", "email": "user@company.com"},
        {"base_url": "ftp://company.atlassian.net", "email": "user@company.com"},
        {"base_url": "https://company.atlassian.net", "email": "not-an-email"},
        {"base_url": "https://company.atlassian.net"},
        {"base_url": "https://company.atlassian.net", "email": "a@b.co", "api_token": "x"},
    ],
)
def test_jira_settings_reject_bad_values(payload: dict[str, str]) -> None:
    with pytest.raises(ValidationError):
        JiraItsmSettings.model_validate(payload)


def test_settings_refuse_a_smuggled_secret_without_echoing_it() -> None:
    with pytest.raises(ValidationError) as info:
        JiraItsmSettings.model_validate(
            {"base_url": "https://x.atlassian.net", "email": "a@b.co", "api_token": TOKEN}
        )
    assert "api_token" in str(info.value)


def test_jira_token_never_in_repr_str_or_json() -> None:
    creds = JiraItsmCredentials(email="user@company.com", api_token=TOKEN)  # type: ignore[arg-type]
    assert TOKEN not in repr(creds)
    assert TOKEN not in str(creds)
    assert TOKEN not in creds.model_dump_json()
    assert TOKEN not in json.dumps(creds.model_dump(mode="json"))


def test_jira_token_revealed_only_with_the_explicit_context() -> None:
    creds = JiraItsmCredentials(email="user@company.com", api_token=TOKEN)  # type: ignore[arg-type]
    assert creds.model_dump(mode="json", context=REVEAL_SECRETS)["api_token"] == TOKEN


def test_credentials_validation_error_does_not_echo_the_token() -> None:
    with pytest.raises(ValidationError) as info:
        JiraItsmCredentials.model_validate({"email": "bad", "api_token": TOKEN})
    assert TOKEN not in str(info.value)


def test_servicenow_password_is_masked_and_revealable() -> None:
    creds = ServiceNowCredentials(username="svc", password="hunter2-secret")  # type: ignore[arg-type]
    assert "hunter2-secret" not in creds.model_dump_json()
    assert creds.model_dump(mode="json", context=REVEAL_SECRETS)["password"] == "hunter2-secret"
    settings = ServiceNowSettings(instance_url="https://co.service-now.com/", username="svc")
    assert settings.instance_url == "https://co.service-now.com"


def test_registry_is_keyed_by_type() -> None:
    assert settings_model_for(DataSourceType.JIRA_ITSM) is JiraItsmSettings
    assert settings_model_for(DataSourceType.SERVICENOW) is ServiceNowSettings
    assert settings_model_for(DataSourceType.CONFLUENCE) is OpenSettings
    assert credentials_model_for(DataSourceType.JIRA_ITSM) is JiraItsmCredentials
    assert credentials_model_for(DataSourceType.WEBSEARCH) is None
