"""Running parsed queries over the data set, with opaque, stable page tokens."""

from __future__ import annotations

import base64
import hashlib
from collections import OrderedDict
from dataclasses import dataclass

from fake_jira.dataset import Dataset, Issue
from fake_jira.jql import JqlError, Query, parse

_CACHE_SIZE = 64
TOKEN_ERROR = "The provided next page token is invalid or expired."  # noqa: S105


def _sort_key(name: str, dataset: Dataset) -> object:
    if name == "updated":
        return lambda issue: issue.updated_ms
    if name == "created":
        return lambda issue: issue.created_ms
    if name == "key":
        return lambda issue: (dataset.projects[issue.project][0], issue.number)
    return lambda issue: issue.id


@dataclass(frozen=True)
class Page:
    """One page of a search: the issues and the token of the next page (None when last)."""

    issues: list[Issue]
    next_page_token: str | None


class SearchEngine:
    """Evaluates JQL; results are cached per resolved query so paging is O(page)."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        self._cache: OrderedDict[tuple[object, ...], list[Issue]] = OrderedDict()

    def results(self, query: Query) -> list[Issue]:
        """Every matching issue in query order (cached)."""
        cache_key = (query.canonical, query.order)
        cached = self._cache.get(cache_key)
        if cached is not None:
            self._cache.move_to_end(cache_key)
            return cached
        found = [issue for issue in self.dataset.issues if query.matches(issue)]
        # Stable sorts from the least significant key; the id breaks every tie.
        found.sort(key=lambda issue: issue.id)
        for name, descending in reversed(query.order):
            found.sort(key=_sort_key(name, self.dataset), reverse=descending)  # type: ignore[arg-type]
        self._cache[cache_key] = found
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return found

    def count(self, jql: str, *, now_ms: int) -> int:
        """How many issues match (exact here; Jira calls it approximate)."""
        return len(self.results(self.parse_bounded(jql, now_ms=now_ms)))

    def parse(self, jql: str, *, now_ms: int) -> Query:
        """Parse, allowing unbounded queries (the offset-paged `/search` runs them)."""
        return parse(jql, self.dataset, now_ms=now_ms)

    def parse_bounded(self, jql: str, *, now_ms: int) -> Query:
        """Parse and refuse unbounded queries, as the enhanced search endpoints do."""
        query = parse(jql, self.dataset, now_ms=now_ms)
        if not query.bounded:
            raise JqlError(
                "Unbounded JQL queries are not allowed here. "
                "Please add a search restriction to your query."
            )
        return query

    def page(self, jql: str, *, now_ms: int, token: str | None, max_results: int) -> Page:
        """The page that starts at `token` (or the first one)."""
        offset = 0
        if token:
            # Later pages resolve relative dates against the first page's clock: no gaps.
            now_ms, offset = _decode(token, jql)
        query = self.parse_bounded(jql, now_ms=now_ms)
        found = self.results(query)
        end = offset + max_results
        next_token = _encode(jql, now_ms, end) if end < len(found) else None
        return Page(found[offset:end], next_token)


def _digest(jql: str) -> str:
    return hashlib.sha256(" ".join(jql.split()).encode()).hexdigest()[:16]


def _encode(jql: str, now_ms: int, offset: int) -> str:
    raw = f"v1:{now_ms}:{offset}:{_digest(jql)}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(token: str, jql: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        version, now_ms, offset, digest = raw.split(":")
        if version != "v1" or digest != _digest(jql) or int(offset) < 0:
            raise ValueError(raw)
        return int(now_ms), int(offset)
    except ValueError as exc:
        raise JqlError(TOKEN_ERROR) from exc
