"""ServiceNow's encoded query subset: conditions, `^` (AND), `^OR`, `^NQ`, ORDERBY[DESC].

`cond^ORcond` binds tighter than `^`, and `^NQ` starts a new query OR-ed with the previous
ones, as on a real instance, so `a>1^NQa=1^sys_id>x` is a keyset condition. Operators: `=`,
`!=`, `>`, `>=`, `<`, `<=`, `IN`, `NOT IN`, `LIKE`, `NOT LIKE`, `STARTSWITH`, `ENDSWITH`,
`ISEMPTY`, `ISNOTEMPTY`. Fields may be dot-walked through references
(`assignment_group.name=Network`). Dates compare in `YYYY-MM-DD HH:MM:SS` (UTC) and also
accept `javascript:gs.dateGenerate('2026-01-31','10:00:00')`. Anything else is a 400: a real
instance may silently ignore an invalid condition (and return every row); the emulator refuses
it so a client bug shows.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fake_servicenow.tables import COLUMNS, Column

Record = dict[str, str]
Lookup = Callable[[str, str], Record | None]  # (table, sys_id) -> record

_CONDITION = re.compile(
    r"^(?P<field>[a-z_][a-z0-9_.]*)"
    r"(?P<op>ISNOTEMPTY|ISEMPTY|NOT IN|IN|NOT LIKE|LIKE|STARTSWITH|ENDSWITH|!=|>=|<=|=|>|<)"
    r"(?P<value>.*)$",
    re.DOTALL,
)
_DATE_GENERATE = re.compile(r"^javascript:gs\.dateGenerate\('([^']*)',\s*'([^']*)'\)$")
_DATE = re.compile(r"^\d{4}-\d\d-\d\d( \d\d:\d\d(:\d\d)?)?$")
_ORDERED = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


class QueryError(ValueError):
    """The encoded query is invalid or outside the subset (answered with 400)."""


@dataclass(frozen=True)
class Path:
    """A (possibly dot-walked) field: the columns walked from the table, last one is the value."""

    table: str
    columns: tuple[Column, ...]

    @property
    def column(self) -> Column:
        """The terminal column."""
        return self.columns[-1]

    @property
    def dotted(self) -> str:
        """The path as written: `assignment_group.name`."""
        return ".".join(column.name for column in self.columns)

    def value(self, record: Record, lookup: Lookup) -> str:
        """The raw value at the end of the path ("" when a reference on the way is empty)."""
        current: Record | None = record
        for column in self.columns[:-1]:
            sys_id = current.get(column.name, "") if current else ""
            current = lookup(column.reference, sys_id) if sys_id else None
        return current.get(self.column.name, "") if current else ""

    def getter(self, lookup: Lookup) -> Callable[[Record], str]:
        """`value` as a function of the record; a plain field is one dict lookup (hot path)."""
        if len(self.columns) == 1:
            name = self.column.name
            return lambda record: record.get(name, "")
        return lambda record: self.value(record, lookup)


def resolve_path(table: str, dotted: str) -> Path | None:
    """The columns behind `a.b.c` from `table`, or None if a name is unknown."""
    columns: list[Column] = []
    current = table
    for name in dotted.split("."):
        column = COLUMNS.get(current, {}).get(name)
        if column is None:
            return None
        columns.append(column)
        current = column.reference
    return Path(table, tuple(columns))


def _date(value: str) -> str:
    generated = _DATE_GENERATE.match(value.strip())
    text = " ".join(generated.groups()) if generated else value.strip()
    if not _DATE.match(text):
        raise QueryError(f"Invalid date value '{value}' (use YYYY-MM-DD HH:MM:SS)")
    if len(text) == 10:
        return f"{text} 00:00:00"
    return f"{text}:00" if len(text) == 16 else text


def sort_key(column: Column, raw: str) -> tuple[int, int | str]:
    """A key that orders a column's values as ServiceNow does (numbers numerically)."""
    if column.kind in ("integer", "choice") and raw.lstrip("-").isdigit():
        return (0, int(raw))
    return (1, raw)


def is_numeric(column: Column) -> bool:
    """Whether values compare as numbers (otherwise as strings: times sort as text)."""
    return column.kind in ("integer", "choice")


def record_key(path: Path, lookup: Lookup) -> Callable[[Record], Any]:
    """The sort key of a path's value for every record."""
    value = path.getter(lookup)
    if is_numeric(path.column):
        column = path.column
        return lambda record: sort_key(column, value(record))
    return value


def _condition(  # noqa: PLR0911, PLR0912 - one branch per operator
    table: str, text: str, lookup: Lookup
) -> Callable[[Record], bool]:
    match = _CONDITION.match(text)
    if match is None:
        raise QueryError(f"Invalid query condition '{text}'")
    path = resolve_path(table, match["field"])
    if path is None:
        raise QueryError(f"Invalid field '{match['field']}' for table '{table}'")
    op, raw_value = match["op"], match["value"]
    column = path.column
    if column.kind == "datetime" and op in ("=", "!=", *_ORDERED):
        raw_value = _date(raw_value) if raw_value else raw_value

    value = path.getter(lookup)

    if op == "ISEMPTY":
        return lambda record: value(record) == ""
    if op == "ISNOTEMPTY":
        return lambda record: value(record) != ""
    if op in ("IN", "NOT IN"):
        wanted = frozenset(part for part in raw_value.split(",") if part != "")
        if op == "IN":
            return lambda record: value(record) in wanted
        return lambda record: value(record) not in wanted
    lowered = raw_value.lower()
    if op == "LIKE":
        return lambda record: lowered in value(record).lower()
    if op == "NOT LIKE":
        return lambda record: lowered not in value(record).lower()
    if op == "STARTSWITH":
        return lambda record: value(record).lower().startswith(lowered)
    if op == "ENDSWITH":
        return lambda record: value(record).lower().endswith(lowered)
    if column.kind == "boolean":
        raw_value = raw_value.lower()
    if not is_numeric(column) and len(path.columns) == 1:
        # The hot path (a keyset page scans the table): one dict lookup, no helper call.
        name = column.name
        if op == "=":
            return lambda record: record.get(name, "") == raw_value
        if op == "!=":
            return lambda record: record.get(name, "") != raw_value
        if op == ">":
            return lambda record: record.get(name, "") > raw_value
        if op == ">=":
            return lambda record: record.get(name, "") >= raw_value
        # "" sorts first: an empty value never satisfies an ordering comparison.
        if op == "<":
            return lambda record: "" < record.get(name, "") < raw_value
        return lambda record: "" < record.get(name, "") <= raw_value
    if not is_numeric(column):
        # Strings (times included, in their sortable format) compare as they are.
        if op == "=":
            return lambda record: value(record) == raw_value
        if op == "!=":
            return lambda record: value(record) != raw_value
        compare_text = _ORDERED[op]
        return lambda record: (found := value(record)) != "" and compare_text(found, raw_value)
    bound = sort_key(column, raw_value)
    if op == "=":
        return lambda record: sort_key(column, value(record)) == bound
    if op == "!=":
        return lambda record: sort_key(column, value(record)) != bound
    compare = _ORDERED[op]
    # An empty value never satisfies an ordering comparison (as NULL in SQL).
    return lambda record: value(record) != "" and compare(sort_key(column, value(record)), bound)


@dataclass(frozen=True)
class Query:
    """A parsed query: OR of groups, each an AND of terms, each an OR of conditions."""

    groups: tuple[tuple[tuple[Callable[[Record], bool], ...], ...], ...]
    order: tuple[tuple[Path, bool], ...]  # (field, descending)
    canonical: str

    @property
    def order_key(self) -> tuple[tuple[str, bool], ...]:
        """The ORDERBY clauses, for caching the ordered table."""
        return tuple((path.dotted, descending) for path, descending in self.order)

    @property
    def predicate(self) -> Callable[[Record], bool]:
        """The whole condition as one function (closures, not generators: it runs per record)."""
        return _any([_all([_any(list(term)) for term in group]) for group in self.groups])

    def matches(self, record: Record) -> bool:
        """Whether the record satisfies the query (no condition: every record)."""
        return self.predicate(record)


def _all(parts: list[Callable[[Record], bool]]) -> Callable[[Record], bool]:
    if not parts:
        return lambda _record: True
    first, *rest = parts
    if not rest:
        return first
    others = _all(rest)
    return lambda record: first(record) and others(record)


def _any(parts: list[Callable[[Record], bool]]) -> Callable[[Record], bool]:
    if not parts:
        return lambda _record: True  # no condition at all: every record
    first, *rest = parts
    if not rest:
        return first
    others = _any(rest)
    return lambda record: first(record) or others(record)


def parse(table: str, text: str, lookup: Lookup) -> Query:
    """Parse `sysparm_query` for `table`; raise `QueryError` when outside the subset."""
    groups: list[tuple[tuple[Callable[[Record], bool], ...], ...]] = []
    order: list[tuple[Path, bool]] = []
    for group_text in text.split("^NQ") if text.strip() else []:
        terms: list[list[Callable[[Record], bool]]] = []
        for part in group_text.split("^"):
            piece = part.strip()
            if not piece or piece == "EQ":
                continue
            if piece.startswith("ORDERBY"):
                descending = piece.startswith("ORDERBYDESC")
                name = piece.removeprefix("ORDERBYDESC" if descending else "ORDERBY")
                path = resolve_path(table, name)
                if path is None:
                    raise QueryError(f"Invalid field '{name}' in ORDERBY for table '{table}'")
                order.append((path, descending))
                continue
            if piece.startswith("OR"):
                alternative = _condition(table, piece[2:], lookup)
                if terms:
                    terms[-1].append(alternative)
                else:
                    terms.append([alternative])
                continue
            terms.append([_condition(table, piece, lookup)])
        if terms:
            groups.append(tuple(tuple(term) for term in terms))
    return Query(tuple(groups), tuple(order), canonical=text.strip())
