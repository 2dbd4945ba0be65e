"""The alert rules and the Grafana dashboard name only metrics and labels the services export.

Like `promtool check rules`, offline: every expression parses (promql-parser, the Prometheus
grammar), and every metric it selects is one the services register with prometheus_client (read
from the metric objects themselves, so a renamed metric fails here), with labels they set.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase

from contracts import STATUS_QUEUE, dead_letter_queue

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
# Labels Prometheus adds to every scraped series (target and Kubernetes service discovery).
TARGET_LABELS = {"job", "instance", "namespace", "pod", "service"}
# Series from RabbitMQ's own exporter (the rabbitmq_prometheus plugin, per-object metrics):
# the services cannot export the broker's queue depth. Their `queue` label is checked below.
RABBITMQ_EXPORTER = {
    "rabbitmq_queue_messages": {"queue", "vhost"},
    "rabbitmq_queue_messages_ready": {"queue", "vhost"},
}
RULE_KEYS = {"alert", "expr", "for", "labels", "annotations"}
DURATION = re.compile(r"^\d+[smhd]$")


@dataclass
class Exported:
    """What the services expose: sample name → label names, and the source text for values."""

    labels: dict[str, set[str]] = field(default_factory=dict)


def _metric_modules() -> list[str]:
    """Every module of a service or lib that creates prometheus_client metrics."""
    names: list[str] = []
    for source in sorted(ROOT.glob("*/*/src/*/**/*.py")):
        if "prometheus_client import" not in source.read_text():
            continue
        src = next(parent for parent in source.parents if parent.name == "src")
        names.append(".".join(source.relative_to(src).with_suffix("").parts))
    return names


def _sample_names(name: str, kind: str) -> dict[str, set[str]]:
    """The series names one metric family exposes, with the extra label each adds."""
    if kind == "counter":
        return {f"{name}_total": set(), f"{name}_created": set()}
    if kind == "histogram":
        return {
            f"{name}_bucket": {"le"},
            f"{name}_sum": set(),
            f"{name}_count": set(),
            f"{name}_created": set(),
        }
    if kind == "summary":
        return {name: {"quantile"}, f"{name}_sum": set(), f"{name}_count": set()}
    if kind == "info":
        return {f"{name}_info": set()}
    return {name: set()}


@pytest.fixture(scope="module")
def exported() -> Exported:
    found = Exported()
    for module_name in _metric_modules():
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if not isinstance(value, MetricWrapperBase):
                continue
            [family] = value.describe()
            # prometheus_client keeps the label names only on the object (no public accessor).
            own = set(value._labelnames)
            for sample, extra in _sample_names(family.name, family.type).items():
                found.labels[sample] = own | extra
    assert "connections_api_requests_total" in found.labels, "service metrics not found"
    return found


@dataclass(frozen=True)
class Selector:
    name: str
    matchers: list[tuple[str, str, str]]  # (label, op, value)


def _walk(node: Any, selectors: list[Selector], grouping: list[list[str]]) -> None:
    """Collect vector selectors and `by (...)` labels from a parsed expression."""
    if isinstance(node, promql_parser.VectorSelector):
        matchers = [(m.name, str(m.op), m.value) for m in node.matchers.matchers]
        selectors.append(Selector(node.name or "", matchers))
        return
    if isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
        grouping.append(list(node.modifier.labels))
    for attribute in ("lhs", "rhs", "expr", "param", "vector_selector"):
        child = getattr(node, attribute, None)
        if child is not None and type(child).__module__ == "promql_parser":
            _walk(child, selectors, grouping)
    for argument in getattr(node, "args", None) or []:
        _walk(argument, selectors, grouping)


def _check_expression(expr: str, exported: Exported, where: str) -> list[str]:
    """The metric names `expr` selects, after asserting each exists with the labels used."""
    parsed = promql_parser.parse(expr)  # raises on a syntax error
    selectors: list[Selector] = []
    grouping: list[list[str]] = []
    _walk(parsed, selectors, grouping)
    assert selectors, f"{where}: selects no metric"
    names: list[str] = []
    for selector in selectors:
        known = {**RABBITMQ_EXPORTER, **exported.labels}.get(selector.name)
        assert known is not None, f"{where}: no service exports {selector.name}"
        for label, _op, value in selector.matchers:
            assert label in known | TARGET_LABELS, f"{where}: {selector.name} has no {label}"
            if label == "queue":
                queues = {STATUS_QUEUE, dead_letter_queue(STATUS_QUEUE)}
                assert set(value.split("|")) <= queues, f"{where}: unknown queue {value}"
        names.append(selector.name)
    labels_in_use = set().union(*(exported.labels.get(n, set()) for n in names))
    labels_in_use |= set().union(*(RABBITMQ_EXPORTER.get(n, set()) for n in names))
    for group in grouping:
        assert set(group) <= labels_in_use | TARGET_LABELS, f"{where}: groups by unknown {group}"
    return names


def _rules() -> list[dict[str, Any]]:
    data = yaml.safe_load((OBSERVABILITY / "alerts.yml").read_text())
    return [rule for group in data["groups"] for rule in group["rules"]]


def test_rule_file_has_the_shape_prometheus_loads() -> None:
    data = yaml.safe_load((OBSERVABILITY / "alerts.yml").read_text())
    assert set(data) == {"groups"}
    group_names = [group["name"] for group in data["groups"]]
    assert len(group_names) == len(set(group_names))
    alerts = [rule["alert"] for rule in _rules()]
    assert len(alerts) == len(set(alerts)), "alert names repeat"
    for rule in _rules():
        assert set(rule) <= RULE_KEYS, rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        if "for" in rule:
            assert DURATION.match(rule["for"]), rule["alert"]


def test_every_alert_expression_selects_exported_metrics(exported: Exported) -> None:
    for rule in _rules():
        _check_expression(rule["expr"], exported, rule["alert"])


def test_the_alerts_cover_what_operators_must_hear_about(exported: Exported) -> None:
    selected = {rule["alert"]: _check_expression(rule["expr"], exported, "") for rule in _rules()}
    needs = {
        "RitaStatusDeadLettersWaiting": "rabbitmq_queue_messages",
        "RitaStatusMessagesDeadLettered": "status_consumer_dead_lettered_total",
        "RitaConsumerLag": "status_consumer_message_age_at_commit_seconds_bucket",
        "RitaOutboxBacklog": "connections_api_outbox_pending",
        "RitaWebhookDeliveriesFailing": "connections_api_webhook_deliveries_total",
        "RitaRunsStuck": "connections_api_active_runs",
        "RitaGatewayNearConnectionCap": "sse_gateway_open_connections",
        "RitaApiErrorRate": "connections_api_requests_total",
    }
    for alert, metric in needs.items():
        assert metric in selected[alert], alert


def test_connection_cap_alert_matches_the_gateways_limit() -> None:
    from sse_gateway.config import Settings as GatewaySettings

    cap = GatewaySettings.model_fields["gateway_max_connections"].default
    [rule] = [r for r in _rules() if r["alert"] == "RitaGatewayNearConnectionCap"]
    assert rule["expr"].endswith(f"> 0.9 * {cap}")


def test_every_alert_has_a_runbook_section_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    headings = {
        re.sub(r"[^a-z0-9-]", "", line.lstrip("#").strip().lower().replace(" ", "-"))
        for line in readme.splitlines()
        if line.startswith("#### ")
    }
    for rule in _rules():
        anchor = rule["annotations"]["runbook"].split("#", 1)[1]
        assert anchor == rule["alert"].lower(), rule["alert"]
        assert anchor in headings, f"README has no runbook section for {rule['alert']}"
        section = readme.split(f"#### {rule['alert']}", 1)[1].split("\n#### ", 1)[0]
        assert "rita-ops" in section or "Action" in section, rule["alert"]


def test_dashboard_panels_query_exported_metrics(exported: Exported) -> None:
    dashboard = json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text())
    assert dashboard["uid"] == "rita-connections"
    targets = [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]
    assert len(targets) >= 20
    seen: set[str] = set()
    for title, expr in targets:
        seen |= set(_check_expression(expr, exported, title))
    # Every service appears on the dashboard.
    for prefix in ("connections_api_", "status_consumer_", "sse_gateway_", "itsm_sync_"):
        assert any(name.startswith(prefix) for name in seen), prefix
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${datasource}", panel["title"]


def test_a_renamed_metric_is_caught(exported: Exported) -> None:
    """The check itself: a name no service exports, or a label it lacks, fails."""
    with pytest.raises(AssertionError, match="no service exports"):
        _check_expression("rate(connections_api_request_total[5m])", exported, "typo")
    with pytest.raises(AssertionError, match="has no tenant"):
        _check_expression('connections_api_outbox_pending{tenant="x"}', exported, "label")
    with pytest.raises(AssertionError, match="no service exports"):
        _check_expression("sse_gateway_open_connections_total", exported, "suffix")
