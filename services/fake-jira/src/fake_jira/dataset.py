"""The seeded data set: projects, issue types, statuses, users and issues."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from emulator.seeding import DAY_MS, seeded, update_window

PROJECTS: tuple[tuple[str, str, str], ...] = (
    ("SUP", "IT Support", "service_desk"),
    ("OPS", "Operations", "software"),
    ("HR", "People Services", "service_desk"),
    ("FAC", "Facilities", "business"),
    ("NET", "Network", "software"),
    ("SEC", "Security", "software"),
    ("FIN", "Finance Help", "service_desk"),
    ("DEV", "Developer Platform", "software"),
)
# id, name, description, hierarchy level
ISSUE_TYPES: tuple[tuple[str, str, str, int], ...] = (
    ("10001", "Incident", "An unplanned interruption to a service.", 0),
    ("10002", "Service Request", "A request for help or information.", 0),
    ("10003", "Problem", "The cause of one or more incidents.", 0),
    ("10004", "Change", "A change to a service.", 0),
    ("10005", "Task", "A small, distinct piece of work.", 0),
)
# id, name, status category id
STATUSES: tuple[tuple[str, str, int], ...] = (
    ("1", "Open", 2),
    ("3", "In Progress", 4),
    ("10100", "Waiting for customer", 4),
    ("5", "Resolved", 3),
    ("6", "Closed", 3),
)
# id -> (key, colour, name), as Jira's status categories
STATUS_CATEGORIES: dict[int, tuple[str, str, str]] = {
    2: ("new", "blue-gray", "To Do"),
    4: ("indeterminate", "yellow", "In Progress"),
    3: ("done", "green", "Done"),
}
PRIORITIES: tuple[tuple[str, str], ...] = (
    ("1", "Highest"),
    ("2", "High"),
    ("3", "Medium"),
    ("4", "Low"),
    ("5", "Lowest"),
)
_PRIORITY_WEIGHTS = (2, 8, 20, 8, 2)
_STATUS_WEIGHTS = (4, 3, 1, 3, 6)
_FIRST = (
    "Ada",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Femi",
    "Greta",
    "Hiro",
    "Ines",
    "Jon",
    "Kai",
    "Lea",
)
_LAST = ("Lovelace", "Okafor", "Martin", "Patel", "Yilmaz", "Adeyemi", "Berg", "Sato", "Costa")
_THINGS = (
    "VPN",
    "laptop",
    "printer on floor 3",
    "email",
    "Wi-Fi",
    "SSO login",
    "shared drive",
    "payroll portal",
    "badge reader",
    "CI pipeline",
    "database backup",
    "phone",
    "monitor",
    "calendar",
)
_PROBLEMS = (
    "is not working",
    "keeps disconnecting",
    "is very slow",
    "shows an error",
    "needs access",
    "must be replaced",
    "fails after the update",
    "asks for a password again",
)
_LABELS = ("hardware", "software", "network", "access", "urgent", "onboarding", "vip", "outage")


@dataclass(frozen=True, slots=True)
class User:
    """A Jira user (reporter, assignee or configured account)."""

    account_id: str
    display_name: str
    email: str


@dataclass(frozen=True, slots=True)
class Issue:
    """One issue, compact: references into the catalogues, times in epoch milliseconds."""

    id: int
    key: str
    number: int
    project: int
    issue_type: int
    status: int
    priority: int
    reporter: int
    assignee: int  # -1 when unassigned
    created_ms: int
    updated_ms: int
    summary: str
    labels: tuple[str, ...]


def account_id_for(email: str) -> str:
    """A stable Atlassian-style account id (24 hex digits) for an email."""
    return "5b10" + hashlib.sha256(email.lower().encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Dataset:
    """Everything the emulator serves, generated once from a seed."""

    anchor_ms: int
    projects: tuple[tuple[str, str, str], ...]
    users: tuple[User, ...]
    issues: tuple[Issue, ...]

    @cached_property
    def by_key(self) -> dict[str, Issue]:
        """Issues by key (upper case), built on first use."""
        return {issue.key: issue for issue in self.issues}

    def project_index(self, value: str) -> int | None:
        """Find a project by key, name or id (case-insensitive), as JQL does."""
        wanted = value.strip().lower()
        for index, (key, name, _) in enumerate(self.projects):
            if wanted in (key.lower(), name.lower(), str(10000 + index)):
                return index
        return None


def generate(*, seed: int, issues: int, projects: int, days: float, anchor: datetime) -> Dataset:
    """Build the data set; same arguments, same data, in well under a second for 10k issues."""
    rng = seeded(seed)
    anchor_ms = int(anchor.timestamp() * 1000)
    chosen = PROJECTS[:projects]
    users = tuple(
        User(
            account_id_for(f"{first.lower()}.{last.lower()}@example.com"),
            f"{first} {last}",
            f"{first.lower()}.{last.lower()}@example.com",
        )
        for first, last in zip(_FIRST, _LAST * 2, strict=False)
    )
    # Every issue stays strictly inside `updated >= -{days}d` for the first hour of uptime.
    oldest_ms, newest_ms = update_window(anchor_ms, days)
    n_status, n_prio, n_users = len(STATUSES), len(PRIORITIES), len(users)
    drafts: list[tuple[int, int, int, int, int, int, int, int, str, tuple[str, ...]]] = []
    for _ in range(issues):
        updated = rng.randint(oldest_ms, newest_ms)
        # Most tickets were opened shortly before their last update; some long before.
        created = updated - int(rng.expovariate(1 / (3 * DAY_MS)))
        status = rng.choices(range(n_status), _STATUS_WEIGHTS)[0]
        priority = rng.choices(range(n_prio), _PRIORITY_WEIGHTS)[0]
        assignee = -1 if status == 0 and rng.random() < 0.5 else rng.randrange(n_users)
        summary = f"{rng.choice(_THINGS).capitalize()} {rng.choice(_PROBLEMS)}"
        labels = tuple(sorted(set(rng.sample(_LABELS, rng.randint(0, 2)))))
        drafts.append(
            (
                created,
                updated,
                rng.randrange(projects),
                rng.randrange(len(ISSUE_TYPES)),
                status,
                priority,
                rng.randrange(n_users),
                assignee,
                summary,
                labels,
            )
        )
    # Ids and keys grow with creation time, as in a real Jira site.
    drafts.sort(key=lambda draft: draft[0])
    counters = [0] * projects
    built: list[Issue] = []
    for index, (created, updated, proj, itype, status, prio, rep, asg, summ, labels) in enumerate(
        drafts
    ):
        counters[proj] += 1
        built.append(
            Issue(
                id=10000 + index,
                key=f"{chosen[proj][0]}-{counters[proj]}",
                number=counters[proj],
                project=proj,
                issue_type=itype,
                status=status,
                priority=prio,
                reporter=rep,
                assignee=asg,
                created_ms=created,
                updated_ms=updated,
                summary=summ,
                labels=labels,
            )
        )
    return Dataset(anchor_ms=anchor_ms, projects=chosen, users=users, issues=tuple(built))
