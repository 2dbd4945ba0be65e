"""A small Jira Cloud REST API v3 client (httpx + tenacity) and its readable errors."""

from itsm_sync.jira.client import JiraClient, RetryPolicy, SearchPage
from itsm_sync.jira.errors import (
    JiraAuthError,
    JiraBadRequest,
    JiraError,
    JiraPermissionError,
    JiraRateLimited,
    JiraServerError,
    JiraUnavailable,
    NotJiraSite,
)

__all__ = [
    "JiraAuthError",
    "JiraBadRequest",
    "JiraClient",
    "JiraError",
    "JiraPermissionError",
    "JiraRateLimited",
    "JiraServerError",
    "JiraUnavailable",
    "NotJiraSite",
    "RetryPolicy",
    "SearchPage",
]
