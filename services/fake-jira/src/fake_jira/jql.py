"""A JQL subset: date and project/type/status clauses joined by AND, then ORDER BY.

Supported: `updated|created (>=|>|<=|<|=) (-90d | -12h | -2w | -30m | "2026-01-31" |
"2026-01-31 10:00" | 1788220800000)` (the last in epoch milliseconds),
`project|issuetype|status (=|!=) value`, `... [not] in (a, b)`, `AND`,
`ORDER BY updated|created|key|id [ASC|DESC], ...`. Anything else is answered with a 400 whose
`errorMessages` explain it, as Jira does for JQL it cannot parse.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from emulator.seeding import DAY_MS, HOUR_MS, MINUTE_MS
from fake_jira.dataset import ISSUE_TYPES, STATUSES, Dataset, Issue

_TOKEN = re.compile(
    r"""\s*(?:(?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|(?P<op>>=|<=|!=|=|>|<|~|\(|\)|,)"""
    r"""|(?P<word>[^\s"'()=<>!,~]+))"""
)
_RELATIVE = re.compile(r"^([+-]?)(\d+)([wdhm])$", re.IGNORECASE)
_UNITS = {"w": 7 * DAY_MS, "d": DAY_MS, "h": HOUR_MS, "m": MINUTE_MS}
_DATE_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d")
_COMPARE: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "=": operator.eq,
}
_SORTABLE = ("updated", "created", "key", "id")
_TYPE_NAMES = tuple((row[0], row[1].lower()) for row in ISSUE_TYPES)
_STATUS_NAMES = tuple((row[0], row[1].lower()) for row in STATUSES)
_OTHER_JIRA_FIELDS = frozenset(
    (
        "summary",
        "description",
        "text",
        "key",
        "issuekey",
        "id",
        "assignee",
        "reporter",
        "creator",
        "labels",
        "priority",
        "resolution",
        "resolved",
        "due",
        "duedate",
        "component",
        "sprint",
        "parent",
        "statuscategory",
        "comment",
        "environment",
        "fixversion",
        "affectedversion",
    )
)
# Without ORDER BY, newest first (ids grow with creation time).
DEFAULT_ORDER: tuple[tuple[str, bool], ...] = (("created", True),)


class JqlError(ValueError):
    """The JQL is invalid or outside the supported subset (answered with 400)."""


@dataclass(frozen=True)
class Query:
    """A parsed query: `canonical` identifies the filter once relative dates are resolved."""

    predicates: tuple[Callable[[Issue], bool], ...]
    canonical: tuple[str, ...]
    order: tuple[tuple[str, bool], ...] = DEFAULT_ORDER  # (field, descending)

    @property
    def bounded(self) -> bool:
        """Jira refuses searches without any restriction on this endpoint."""
        return bool(self.predicates)

    def matches(self, issue: Issue) -> bool:
        """Whether the issue passes every clause."""
        return all(predicate(issue) for predicate in self.predicates)


def _tokens(jql: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = jql.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise JqlError(f"Error in the JQL Query: unexpected character at position {pos}.")
        kind = match.lastgroup or "word"
        value = match.group(kind)
        if kind == "str":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        out.append((kind, value))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, jql: str, dataset: Dataset, now_ms: int) -> None:
        self.tokens = _tokens(jql)
        self.pos = 0
        self.dataset = dataset
        self.now_ms = now_ms

    def peek_word(self) -> str:
        if self.pos < len(self.tokens) and self.tokens[self.pos][0] == "word":
            return self.tokens[self.pos][1].lower()
        return ""

    def take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise JqlError("Error in the JQL Query: the query ended unexpectedly.")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def value(self) -> str:
        kind, value = self.take()
        if kind == "op":
            raise JqlError(f"Error in the JQL Query: expected a value but got '{value}'.")
        return value

    def parse(self) -> Query:
        predicates: list[Callable[[Issue], bool]] = []
        canonical: list[str] = []
        order: list[tuple[str, bool]] = []
        while self.pos < len(self.tokens) and self.peek_word() != "order":
            if predicates:
                joiner = self.take()[1]
                if joiner.lower() != "and":
                    raise JqlError(
                        f"Error in the JQL Query: '{joiner}' is not supported by this Jira "
                        "emulator; only clauses joined by AND are."
                    )
            predicate, text = self.clause()
            predicates.append(predicate)
            canonical.append(text)
        if self.peek_word() == "order":
            self.take()
            if self.peek_word() != "by":
                raise JqlError("Error in the JQL Query: expecting 'by' after 'order'.")
            self.take()
            order = self.order_by()
        return Query(tuple(predicates), tuple(sorted(canonical)), tuple(order) or DEFAULT_ORDER)

    def order_by(self) -> list[tuple[str, bool]]:
        order: list[tuple[str, bool]] = []
        while True:
            name = self.value().lower()
            if name not in _SORTABLE:
                raise JqlError(f"Not able to sort using field '{name}'.")
            descending = False
            if self.peek_word() in ("asc", "desc"):
                descending = self.take()[1].lower() == "desc"
            order.append((name, descending))
            if self.pos >= len(self.tokens):
                return order
            if self.take() != ("op", ","):
                raise JqlError("Error in the JQL Query: expecting ',' or the end of the query.")

    def clause(self) -> tuple[Callable[[Issue], bool], str]:
        kind, name = self.take()
        lowered = name.lower()
        if kind != "word" or lowered in ("not", "or", "and") or name == "(":
            raise JqlError(
                f"Error in the JQL Query: '{name}' is not supported by this Jira emulator."
            )
        if lowered in ("updated", "updateddate", "created", "createddate"):
            return self.date_clause("updated" if lowered.startswith("updated") else "created")
        if lowered in ("project", "issuetype", "type", "status"):
            return self.list_clause("issuetype" if lowered == "type" else lowered)
        if lowered in _OTHER_JIRA_FIELDS:
            raise JqlError(
                f"Error in the JQL Query: the field '{name}' is not supported by this Jira "
                "emulator (supported: updated, created, project, issuetype, status)."
            )
        raise JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")

    def date_clause(self, name: str) -> tuple[Callable[[Issue], bool], str]:
        op = self.take()[1]
        if op not in _COMPARE:
            raise JqlError(f"The operator '{op}' is not supported by the '{name}' field.")
        bound = self.date_value(self.value())
        compare = _COMPARE[op]
        if name == "updated":
            return (lambda issue: compare(issue.updated_ms, bound)), f"updated{op}{bound}"
        return (lambda issue: compare(issue.created_ms, bound)), f"created{op}{bound}"

    def date_value(self, raw: str) -> int:
        if raw.strip().isdigit():
            # Jira also takes a date as epoch milliseconds (Airbyte's connector sends these).
            return int(raw.strip())
        relative = _RELATIVE.match(raw.strip())
        if relative:
            sign = -1 if relative.group(1) == "-" else 1
            return self.now_ms + sign * int(relative.group(2)) * _UNITS[relative.group(3).lower()]
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(raw.strip(), fmt).replace(tzinfo=UTC)
            except ValueError:
                continue
            return int(parsed.timestamp() * 1000)
        raise JqlError(
            f"Date value '{raw}' for field 'updated' is invalid. Valid formats include: "
            "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period "
            "format e.g. '-5d', '4w 2d'."
        )

    def list_clause(self, name: str) -> tuple[Callable[[Issue], bool], str]:
        _kind, op = self.take()
        negate = False
        if op.lower() == "not":
            negate, (_kind, op) = True, self.take()
        if op.lower() == "in":
            values = self.value_list()
        elif op in ("=", "!=") and not negate:
            negate = op == "!="
            values = [self.value()]
        else:
            raise JqlError(f"The operator '{op}' is not supported by the '{name}' field.")
        wanted = frozenset(self.resolve(name, value) for value in values)
        attribute = {"project": "project", "issuetype": "issue_type", "status": "status"}[name]
        getter = operator.attrgetter(attribute)
        text = f"{name}{'!' if negate else ''}in{sorted(wanted)}"
        if negate:
            return (lambda issue: getter(issue) not in wanted), text
        return (lambda issue: getter(issue) in wanted), text

    def value_list(self) -> list[str]:
        if self.take() != ("op", "("):
            raise JqlError("Error in the JQL Query: expecting '(' after 'in'.")
        values = [self.value()]
        while True:
            kind, value = self.take()
            if (kind, value) == ("op", ")"):
                return values
            if (kind, value) != ("op", ","):
                raise JqlError("Error in the JQL Query: expecting ',' or ')' in the list.")
            values.append(self.value())

    def resolve(self, name: str, value: str) -> int:
        if name == "project":
            index = self.dataset.project_index(value)
        else:
            table = _TYPE_NAMES if name == "issuetype" else _STATUS_NAMES
            lowered = value.strip().lower()
            index = next((i for i, ids in enumerate(table) if lowered in ids), None)
        if index is None:
            raise JqlError(f"The value '{value}' does not exist for the field '{name}'.")
        return index


def parse(jql: str, dataset: Dataset, *, now_ms: int) -> Query:
    """Parse `jql`, resolving relative dates against `now_ms`; raise `JqlError` if unsupported."""
    return _Parser(jql, dataset, now_ms).parse()
