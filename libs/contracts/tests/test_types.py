"""Types and groupings follow the seed."""

from contracts import (
    ALLOWED_DATA_SOURCE_TYPES,
    DEFAULT_DATA_SOURCES,
    ITSM_SOURCES_ORDER,
    KNOWLEDGE_SOURCE_TYPES,
    TICKET_SYNC_TYPES,
    DataSourceType,
    IngestionRunStatus,
    SourceCategory,
    types_in_category,
)


def test_allowed_types_are_the_seeds_in_order() -> None:
    assert [str(t) for t in ALLOWED_DATA_SOURCE_TYPES] == [
        "confluence",
        "servicenow",
        "sharepoint",
        "websearch",
        "jira",
        "jira_itsm",
    ]


def test_jira_itsm_is_an_itsm_source_only() -> None:
    assert list(ITSM_SOURCES_ORDER) == ["servicenow", "jira_itsm", "freshdesk"]
    assert DataSourceType.JIRA_ITSM not in KNOWLEDGE_SOURCE_TYPES
    assert types_in_category(SourceCategory.ITSM) == (
        DataSourceType.SERVICENOW,
        DataSourceType.JIRA_ITSM,
    )


def test_ticket_sync_accepts_servicenow_and_jira_itsm_but_not_jira() -> None:
    assert {DataSourceType.SERVICENOW, DataSourceType.JIRA_ITSM} == TICKET_SYNC_TYPES
    assert DataSourceType.JIRA not in TICKET_SYNC_TYPES


def test_every_allowed_type_has_one_seed_row() -> None:
    assert [row.type for row in DEFAULT_DATA_SOURCES] == list(ALLOWED_DATA_SOURCE_TYPES)
    jira_itsm = next(r for r in DEFAULT_DATA_SOURCES if r.type is DataSourceType.JIRA_ITSM)
    assert jira_itsm.name == "Jira ITSM"
    assert jira_itsm.description == "Import tickets from Jira for Autopilot clustering"


def test_run_status_terminality() -> None:
    assert not IngestionRunStatus.PENDING.is_terminal
    assert IngestionRunStatus.RUNNING.is_active
    assert all(
        s.is_terminal
        for s in (
            IngestionRunStatus.COMPLETED,
            IngestionRunStatus.FAILED,
            IngestionRunStatus.CANCELLED,
        )
    )
