"""Records as the Table API returns them: `sysparm_fields`, display values, reference links."""

from __future__ import annotations

from typing import Any, Literal

from fake_servicenow.dataset import Record
from fake_servicenow.query import Lookup, Path, resolve_path
from fake_servicenow.tables import DISPLAY_FIELD, TABLES

DisplayMode = Literal["false", "true", "all"]


def field_paths(table: str, sysparm_fields: str) -> tuple[tuple[str, Path], ...]:
    """The requested fields in order (unknown names are left out, as ServiceNow does);
    every column when none are asked for."""
    names = [name.strip() for name in sysparm_fields.split(",") if name.strip()]
    if not names:
        names = [column.name for column in TABLES[table]]
    paths: list[tuple[str, Path]] = []
    for name in dict.fromkeys(names):
        path = resolve_path(table, name)
        if path is not None:
            paths.append((name, path))
    return tuple(paths)


class Renderer:
    """Renders records for one base URL and one set of display options."""

    def __init__(
        self, base_url: str, lookup: Lookup, display: DisplayMode, exclude_links: bool
    ) -> None:
        self.api = f"{base_url.rstrip('/')}/api/now/table"
        self.lookup = lookup
        self.display = display
        self.exclude_links = exclude_links

    def _display(self, path: Path, raw: str) -> str:
        column = path.column
        if column.kind == "choice":
            return column.label(raw)
        if column.kind == "reference" and raw:
            target = self.lookup(column.reference, raw)
            return target.get(DISPLAY_FIELD[column.reference], "") if target else ""
        return raw

    def value(self, record: Record, path: Path) -> Any:
        """One field in the requested display mode."""
        raw = path.value(record, self.lookup)
        column = path.column
        link = (
            f"{self.api}/{column.reference}/{raw}"
            if column.kind == "reference" and raw and not self.exclude_links
            else None
        )
        if self.display == "all":
            body: dict[str, str] = {"display_value": self._display(path, raw), "value": raw}
            return body | ({"link": link} if link else {})
        shown = self._display(path, raw) if self.display == "true" else raw
        if link is None:
            return shown
        key = "display_value" if self.display == "true" else "value"
        return {key: shown, "link": link} if self.display == "true" else {"link": link, key: shown}

    def record(self, record: Record, paths: tuple[tuple[str, Path], ...]) -> dict[str, Any]:
        """A record with the chosen fields."""
        return {name: self.value(record, path) for name, path in paths}
