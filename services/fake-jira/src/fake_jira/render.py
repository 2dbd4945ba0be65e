"""JSON shapes of Jira Cloud REST API v3 objects, and the `fields` selection rules."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from fake_jira.dataset import (
    ISSUE_TYPES,
    PRIORITIES,
    STATUS_CATEGORIES,
    STATUSES,
    Dataset,
    Issue,
    User,
)

# Every field an issue has, in Jira's order; all of them are navigable except `comment`.
NAVIGABLE: tuple[str, ...] = (
    "summary",
    "description",
    "status",
    "issuetype",
    "priority",
    "project",
    "created",
    "updated",
    "reporter",
    "creator",
    "assignee",
    "labels",
    "resolution",
    "resolutiondate",
    "statuscategorychangedate",
)
ALL_FIELDS: tuple[str, ...] = (*NAVIGABLE, "comment")
_ISSUE_EXPAND = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
_DONE = 3  # status category id of resolved statuses
_ENCODED_CACHE = 40_000  # encoded issues (~100 MB at most with every field); cleared when full


def jira_time(epoch_ms: int) -> str:
    """Jira's timestamp format: `2026-11-28T10:00:00.000+0000`."""
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}+0000"


def select_fields(requested: Iterable[str], default: tuple[str, ...]) -> tuple[str, ...]:
    """Apply Jira's `fields` rules: names, `*all`, `*navigable`, `-name`; unknown names ignored."""
    included: set[str] = set()
    excluded: set[str] = set()
    positive = False
    for chunk in requested:
        for raw in chunk.split(","):
            name = raw.strip()
            if not name:
                continue
            if name.startswith("-"):
                excluded.add(name[1:])
                continue
            positive = True
            if name == "*all":
                included.update(ALL_FIELDS)
            elif name == "*navigable":
                included.update(NAVIGABLE)
            elif name in ALL_FIELDS:
                included.add(name)
    if not positive:
        # Only exclusions means "the navigable fields except these"; nothing means the default.
        included = set(NAVIGABLE) if excluded else set(default)
    return tuple(name for name in ALL_FIELDS if name in included and name not in excluded)


class Renderer:
    """Turns data set records into Jira JSON for one base URL."""

    def __init__(self, dataset: Dataset, base_url: str) -> None:
        self.dataset = dataset
        self.base = base_url.rstrip("/")
        self.api = f"{self.base}/rest/api/3"
        # Catalogue objects repeat across issues: build each once (JSON encoding shares them).
        self._memo: dict[tuple[str, int], Any] = {}
        # Encoded issues per field selection: a page is then a join of cached strings.
        self._encoded: dict[tuple[tuple[str, ...], int], str] = {}

    def _once(self, kind: str, index: int, build: Callable[[int], Any]) -> Any:
        key = (kind, index)
        value = self._memo.get(key)
        if value is None:
            value = self._memo[key] = build(index)
        return value

    def avatars(self, kind: str, ident: str) -> dict[str, str]:
        """Avatar URL map in the four sizes Jira always lists."""
        return {
            f"{n}x{n}": f"{self.base}/secure/{kind}avatar?size={n}&id={ident}"
            for n in (48, 24, 16, 32)
        }

    def user(self, user: User, *, with_email: bool = True) -> dict[str, Any]:
        """A user object as embedded in issues and returned by /myself."""
        body: dict[str, Any] = {
            "self": f"{self.api}/user?accountId={user.account_id}",
            "accountId": user.account_id,
            "accountType": "atlassian",
        }
        if with_email:
            body["emailAddress"] = user.email
        body |= {
            "avatarUrls": self.avatars("user", user.account_id),
            "displayName": user.display_name,
            "active": True,
            "timeZone": "Etc/UTC",
        }
        return body

    def _user_at(self, index: int) -> dict[str, Any]:
        return self.user(self.dataset.users[index])

    def project(self, index: int, *, full: bool = False) -> dict[str, Any]:
        """A project: the short form inside issues, the full one in /project/search."""
        key, name, type_key = self.dataset.projects[index]
        pid = str(10000 + index)
        body: dict[str, Any] = {
            "self": f"{self.api}/project/{pid}",
            "id": pid,
            "key": key,
            "name": name,
            "projectTypeKey": type_key,
            "simplified": False,
            "avatarUrls": self.avatars("project", pid),
        }
        if full:
            body = {"expand": "description,lead,issueTypes,url,projectKeys,permissions,insight"}
            body |= self.project(index) | {"style": "classic", "isPrivate": False}
            body["properties"] = {}
        return body

    def issue_type(self, index: int) -> dict[str, Any]:
        """An issue type as /issuetype and issues show it."""
        tid, name, description, level = ISSUE_TYPES[index]
        return {
            "self": f"{self.api}/issuetype/{tid}",
            "id": tid,
            "description": description,
            "iconUrl": f"{self.base}/rest/api/2/universal_avatar/view/type/issuetype/avatar/{tid}",
            "name": name,
            "untranslatedName": name,
            "subtask": False,
            "avatarId": int(tid),
            "hierarchyLevel": level,
        }

    def status(self, index: int) -> dict[str, Any]:
        """A status with its category, as /status and issues show it."""
        sid, name, category = STATUSES[index]
        cat_key, colour, cat_name = STATUS_CATEGORIES[category]
        return {
            "self": f"{self.api}/status/{sid}",
            "description": "",
            "iconUrl": f"{self.base}/images/icons/statuses/generic.png",
            "name": name,
            "untranslatedName": name,
            "id": sid,
            "statusCategory": {
                "self": f"{self.api}/statuscategory/{category}",
                "id": category,
                "key": cat_key,
                "colorName": colour,
                "name": cat_name,
            },
        }

    def priority(self, index: int) -> dict[str, Any]:
        """A priority reference."""
        pid, name = PRIORITIES[index]
        return {
            "self": f"{self.api}/priority/{pid}",
            "iconUrl": f"{self.base}/images/icons/priorities/{name.lower()}.svg",
            "name": name,
            "id": pid,
        }

    def description(self, issue: Issue) -> dict[str, Any]:
        """The description in Atlassian Document Format."""
        reporter = self.dataset.users[issue.reporter].display_name
        lines = (
            f"{issue.summary}. Reported by {reporter}.",
            "Steps taken so far: restarted the device and tried again.",
        )
        return {
            "type": "doc",
            "version": 1,
            "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": line}]} for line in lines
            ],
        }

    def field(self, issue: Issue, name: str) -> Any:  # noqa: PLR0911 - one branch per field
        """The value of one field of an issue."""
        done = STATUSES[issue.status][2] == _DONE
        if name == "summary":
            return issue.summary
        if name == "description":
            return self.description(issue)
        if name == "status":
            return self._once("status", issue.status, self.status)
        if name == "issuetype":
            return self._once("issuetype", issue.issue_type, self.issue_type)
        if name == "priority":
            return self._once("priority", issue.priority, self.priority)
        if name == "project":
            return self._once("project", issue.project, self.project)
        if name in ("created", "updated", "resolutiondate", "statuscategorychangedate"):
            if name == "resolutiondate" and not done:
                return None
            return jira_time(issue.created_ms if name == "created" else issue.updated_ms)
        if name in ("reporter", "creator"):
            return self._once("user", issue.reporter, self._user_at)
        if name == "assignee":
            return None if issue.assignee < 0 else self._once("user", issue.assignee, self._user_at)
        if name == "labels":
            return list(issue.labels)
        if name == "resolution":
            return (
                {"id": "10000", "name": "Done", "description": "Work has been done."}
                if done
                else None
            )
        return {
            "comments": [],
            "self": f"{self.api}/issue/{issue.id}/comment",
            "maxResults": 0,
            "total": 0,
            "startAt": 0,
        }

    def issue(self, issue: Issue, fields: tuple[str, ...]) -> dict[str, Any]:
        """An issue as the search endpoints return it."""
        return {
            "expand": _ISSUE_EXPAND,
            "id": str(issue.id),
            "self": f"{self.api}/issue/{issue.id}",
            "key": issue.key,
            "fields": {name: self.field(issue, name) for name in fields},
        }

    def issue_json(self, issue: Issue, fields: tuple[str, ...]) -> str:
        """`issue()` encoded as compact JSON, cached (the data set never changes)."""
        key = (fields, issue.id)
        encoded = self._encoded.get(key)
        if encoded is None:
            if len(self._encoded) >= _ENCODED_CACHE:
                self._encoded.clear()
            encoded = self._encoded[key] = encode(self.issue(issue, fields))
        return encoded


def encode(value: Any) -> str:
    """Compact JSON, as Starlette's JSONResponse writes it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
