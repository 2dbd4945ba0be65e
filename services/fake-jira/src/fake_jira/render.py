"""JSON shapes of Jira Cloud REST API objects (v3, and v2 where rich text is a plain string),
and the `fields` selection rules."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from emulator.seeding import MINUTE_MS
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
# id, name, schema: the catalogue `GET /field` lists (all system fields, none custom).
FIELD_DEFINITIONS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("summary", "Summary", {"type": "string", "system": "summary"}),
    ("description", "Description", {"type": "string", "system": "description"}),
    ("status", "Status", {"type": "status", "system": "status"}),
    ("issuetype", "Issue Type", {"type": "issuetype", "system": "issuetype"}),
    ("priority", "Priority", {"type": "priority", "system": "priority"}),
    ("project", "Project", {"type": "project", "system": "project"}),
    ("created", "Created", {"type": "datetime", "system": "created"}),
    ("updated", "Updated", {"type": "datetime", "system": "updated"}),
    ("reporter", "Reporter", {"type": "user", "system": "reporter"}),
    ("creator", "Creator", {"type": "user", "system": "creator"}),
    ("assignee", "Assignee", {"type": "user", "system": "assignee"}),
    ("labels", "Labels", {"type": "array", "items": "string", "system": "labels"}),
    ("resolution", "Resolution", {"type": "resolution", "system": "resolution"}),
    ("resolutiondate", "Resolved", {"type": "datetime", "system": "resolutiondate"}),
    (
        "statuscategorychangedate",
        "Status Category Changed",
        {"type": "datetime", "system": "statuscategorychangedate"},
    ),
    ("comment", "Comment", {"type": "comments-page", "system": "comment"}),
)
_COMMENT_PHRASES = (
    "I can reproduce this on my machine too.",
    "Restarting did not help; attaching the error message.",
    "Escalated to the second line team.",
    "Fixed by the latest update, please confirm.",
)
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


def adf(paragraphs: Iterable[str]) -> dict[str, Any]:
    """Plain paragraphs as an Atlassian Document Format document (what v3 returns)."""
    return {
        "type": "doc",
        "version": 1,
        "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": text}]}
            for text in paragraphs
        ],
    }


class Renderer:
    """Turns data set records into Jira JSON for one base URL and one API version.

    Version 3 renders rich text (description, comment bodies) in Atlassian Document Format;
    version 2 renders the same text as plain strings, as Jira Cloud does.
    """

    def __init__(self, dataset: Dataset, base_url: str, version: int = 3) -> None:
        self.dataset = dataset
        self.base = base_url.rstrip("/")
        self.version = version
        self.api = f"{self.base}/rest/api/{version}"
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

    def rich_text(self, paragraphs: tuple[str, ...]) -> Any:
        """ADF in v3, a plain string (paragraphs separated by a blank line) in v2."""
        return adf(paragraphs) if self.version >= 3 else "\n\n".join(paragraphs)

    def description(self, issue: Issue) -> Any:
        """The description: ADF in v3, a string in v2."""
        reporter = self.dataset.users[issue.reporter].display_name
        return self.rich_text(
            (
                f"{issue.summary}. Reported by {reporter}.",
                "Steps taken so far: restarted the device and tried again.",
            )
        )

    def comments(self, issue: Issue) -> dict[str, Any]:
        """The issue's comments (0-2, derived from its id, so the seed's stream is untouched)."""
        count = issue.id % 3
        users = self.dataset.users
        items = []
        for k in range(count):
            author = self._once("user", (issue.id + k) % len(users), self._user_at)
            at = max(issue.created_ms, issue.updated_ms - (count - k) * 15 * MINUTE_MS)
            comment_id = str(100_000 + issue.id * 3 + k)
            text = _COMMENT_PHRASES[(issue.id + k) % len(_COMMENT_PHRASES)]
            items.append(
                {
                    "self": f"{self.api}/issue/{issue.id}/comment/{comment_id}",
                    "id": comment_id,
                    "author": author,
                    "body": self.rich_text((text,)),
                    "updateAuthor": author,
                    "created": jira_time(at),
                    "updated": jira_time(at),
                    "jsdPublic": True,
                }
            )
        return {
            "comments": items,
            "self": f"{self.api}/issue/{issue.id}/comment",
            "maxResults": count,
            "total": count,
            "startAt": 0,
        }

    def project_detail(self, index: int) -> dict[str, Any]:
        """`GET /project` and `/project/{key}`: the full project with lead and issue types."""
        key, name, _ = self.dataset.projects[index]
        return self.project(index, full=True) | {
            "description": f"{name} requests and incidents.",
            "lead": self._once("user", index % len(self.dataset.users), self._user_at),
            "components": [],
            "issueTypes": [self.issue_type(i) for i in range(len(ISSUE_TYPES))],
            "assigneeType": "UNASSIGNED",
            "versions": [],
            "roles": {},
            "url": f"{self.base}/browse/{key}",
        }

    def fields_catalogue(self) -> list[dict[str, Any]]:
        """`GET /field`: every field an issue has, plus the issue key."""
        catalogue: list[dict[str, Any]] = [
            {
                "id": "issuekey",
                "key": "issuekey",
                "name": "Key",
                "custom": False,
                "orderable": False,
                "navigable": True,
                "searchable": False,
                "clauseNames": ["id", "issue", "issuekey", "key"],
            }
        ]
        for field_id, name, schema in FIELD_DEFINITIONS:
            catalogue.append(
                {
                    "id": field_id,
                    "key": field_id,
                    "name": name,
                    "custom": False,
                    "orderable": field_id not in ("created", "updated", "creator"),
                    "navigable": field_id != "comment",
                    "searchable": True,
                    "clauseNames": [field_id],
                    "schema": schema,
                }
            )
        return catalogue

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
        return self.comments(issue)

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
