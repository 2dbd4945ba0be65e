"""The kustomize overlays render, validate against the Kubernetes schemas shipped in
`kubernetes-validate` (offline), and say what production needs: autoscaling, disruption budgets,
network policies, secrets by reference, limits and drain-aware grace periods."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from contracts import STATUS_QUEUE

ROOT = Path(__file__).resolve().parents[2]
APPS = ["connections-api", "status-consumer", "sse-gateway", "itsm-sync"]
# Oldest Kubernetes release the manifests are written for (autoscaling/v2, policy/v1).
KUBERNETES_VERSION = "1.29.0"
# Custom resources: not in the Kubernetes schemas; checked field by field below.
CRDS = {"ScaledObject", "TriggerAuthentication"}

Render = Callable[[str], list[dict[str, Any]]]
Docs = list[dict[str, Any]]


def _console_scripts() -> set[str]:
    import tomllib

    scripts: set[str] = set()
    for pyproject in ROOT.glob("*/*/pyproject.toml"):
        scripts |= set(tomllib.loads(pyproject.read_text()).get("project", {}).get("scripts", {}))
    return scripts


def _kind(docs: Docs, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = doc["spec"]["template"]["spec"]["containers"]
    return containers


def _env(doc: dict[str, Any]) -> dict[str, str]:
    [container] = _containers(doc)
    return {item["name"]: item.get("value", "") for item in container.get("env", [])}


@pytest.fixture(scope="module")
def dev(render: Render) -> Docs:
    return render("dev")


@pytest.fixture(scope="module")
def prod(render: Render) -> Docs:
    return render("prod")


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_every_rendered_object_matches_the_kubernetes_schema(render: Render, overlay: str) -> None:
    docs = render(overlay)
    checked = 0
    for doc in docs:
        if doc["kind"] in CRDS:
            continue
        # strict: an unknown or misspelt field fails, as `kubectl apply --validate=strict` would.
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked >= 12


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_deployments_have_probes_requests_and_a_restricted_security_context(
    render: Render, overlay: str
) -> None:
    deployments = _kind(render(overlay), "Deployment")
    assert set(deployments) == {*APPS, "console"}
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        [container] = pod["containers"]
        ready = "/healthz" if name == "console" else "/readyz"
        assert container["readinessProbe"]["httpGet"]["path"] == ready, name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name
        assert {"cpu", "memory"} <= set(container["resources"]["requests"]), name
        assert "memory" in container["resources"]["limits"], name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}, name
        assert deployment["metadata"]["namespace"] == ("rita-dev" if overlay == "dev" else "rita")
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "rita-connections", name
    for name in APPS:
        assert _env(deployments[name])["OTEL_SERVICE_NAME"] == name
    jobs = _kind(render(overlay), "Job")
    assert set(jobs) == {"connections-migrate", "itsm-sync-migrate"}
    scripts = _console_scripts()
    for name, job in jobs.items():
        [container] = _containers(job)
        # `["store-migrate", "upgrade", "head"]`, or `sh -c "... exec itsm-sync-migrate"`.
        command = container["command"]
        program = command[-1].split("exec ")[-1].split()[0] if command[0] == "sh" else command[0]
        assert program in scripts, f"{name} runs {program}, which no member installs"


def test_prod_sets_cpu_and_memory_limits_on_every_container(prod: Docs) -> None:
    for doc in prod:
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        for container in _containers(doc):
            limits = container["resources"]["limits"]
            assert {"cpu", "memory"} <= set(limits), doc["metadata"]["name"]


def test_prod_renders_no_secret_and_every_pod_references_the_same_one(prod: Docs) -> None:
    assert [d for d in prod if d["kind"] == "Secret"] == []
    for doc in prod:
        if doc["kind"] not in ("Deployment", "Job") or doc["metadata"]["name"] == "console":
            continue
        for container in _containers(doc):
            refs = [
                s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s
            ]
            assert refs == ["rita-connections"], doc["metadata"]["name"]
            for item in container.get("env", []):
                secretish = any(w in item["name"] for w in ("SECRET", "PASSWORD", "_KEY", "URL"))
                assert not (secretish and "value" in item), f"{item['name']} written in a manifest"
    config = _kind(prod, "ConfigMap")["rita-connections"]["data"]
    assert config["AUTH_DEV_MODE"] == "false"
    assert config["OTEL_TRACES_EXPORTER"] == "none"


def test_dev_secret_holds_every_key_the_pods_need(dev: Docs) -> None:
    [secret] = [d for d in dev if d["kind"] == "Secret"]
    assert secret["metadata"]["name"] == "rita-connections"
    assert set(secret["data"]) >= {
        "DATABASE_URL",
        "RABBITMQ_URL",
        "REDIS_URL",
        "AUTH_JWT_SECRET",
        "SYNC_WEBHOOK_SECRET",
        "ITSM_SYNC_DATABASE_URL",
        "ITSM_SYNC_ENCRYPTION_KEY",
    }


def test_prod_autoscales_the_api_and_gateway_on_resources(prod: Docs) -> None:
    hpas = _kind(prod, "HorizontalPodAutoscaler")
    assert set(hpas) == {"connections-api", "sse-gateway"}
    deployments = _kind(prod, "Deployment")
    for name, hpa in hpas.items():
        spec = hpa["spec"]
        assert spec["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert 2 <= spec["minReplicas"] < spec["maxReplicas"]
        assert spec["minReplicas"] <= deployments[name]["spec"]["replicas"]
        resources = {m["resource"]["name"] for m in spec["metrics"] if m["type"] == "Resource"}
        assert "cpu" in resources, name
    # Scaling in sends a gateway's clients elsewhere: slowly, one pod at a time.
    gateway_down = hpas["sse-gateway"]["spec"]["behavior"]["scaleDown"]
    assert gateway_down["stabilizationWindowSeconds"] >= 300
    assert gateway_down["policies"] == [{"type": "Pods", "value": 1, "periodSeconds": 300}]


def test_prod_scales_the_consumer_on_the_status_queue_with_keda(prod: Docs) -> None:
    """ScaledObject is a CRD: its fields are checked here against KEDA's documented shape."""
    [scaled] = _kind(prod, "ScaledObject").values()
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    spec = scaled["spec"]
    assert spec["scaleTargetRef"] == {"name": "status-consumer"}
    assert 1 <= spec["minReplicaCount"] < spec["maxReplicaCount"]
    assert set(spec) <= {
        "scaleTargetRef",
        "minReplicaCount",
        "maxReplicaCount",
        "pollingInterval",
        "cooldownPeriod",
        "idleReplicaCount",
        "fallback",
        "advanced",
        "triggers",
    }
    [trigger] = spec["triggers"]
    assert trigger["type"] == "rabbitmq"
    config = _kind(prod, "ConfigMap")["rita-connections"]["data"]
    assert trigger["metadata"]["queueName"] == config["STATUS_QUEUE"] == STATUS_QUEUE
    assert trigger["metadata"]["mode"] == "QueueLength"
    assert int(trigger["metadata"]["value"]) > 0
    assert trigger["metadata"]["protocol"] == "amqp"
    assert "host" not in trigger["metadata"], "the broker URL is a secret"
    auth = _kind(prod, "TriggerAuthentication")[trigger["authenticationRef"]["name"]]
    assert auth["apiVersion"] == "keda.sh/v1alpha1"
    assert auth["spec"]["secretTargetRef"] == [
        {"parameter": "host", "name": "rita-connections", "key": "RABBITMQ_URL"}
    ]
    assert scaled["metadata"]["namespace"] == auth["metadata"]["namespace"] == "rita"


def test_prod_has_a_disruption_budget_for_every_deployment(prod: Docs) -> None:
    budgets = _kind(prod, "PodDisruptionBudget")
    for name, deployment in _kind(prod, "Deployment").items():
        budget = budgets[name]
        assert (
            budget["spec"]["selector"]["matchLabels"]
            == deployment["spec"]["selector"]["matchLabels"]
        )
        assert budget["spec"]["maxUnavailable"] == 1


def _grace_needed(service: str) -> float:
    """Seconds a service needs between SIGTERM and exit, from its own settings' defaults."""
    if service == "sse-gateway":
        from sse_gateway.config import Settings as Gateway

        return float(Gateway.model_fields["gateway_shutdown_grace_seconds"].default)
    if service == "status-consumer":
        from status_consumer.config import Settings as Consumer

        return float(Consumer.model_fields["graceful_timeout"].default)
    if service == "itsm-sync":
        from itsm_sync.config import Settings as Sync

        return float(Sync.model_fields["itsm_sync_shutdown_grace"].default)
    return 0.0


@pytest.mark.parametrize("overlay", ["dev", "prod"])
@pytest.mark.parametrize("service", APPS)
def test_termination_grace_outlasts_the_prestop_pause_and_the_drain(
    render: Render, overlay: str, service: str
) -> None:
    deployment = _kind(render(overlay), "Deployment")[service]
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    pause = 0.0
    pre_stop = container.get("lifecycle", {}).get("preStop")
    if pre_stop is not None:
        assert pre_stop["exec"]["command"][0] == "sleep"
        pause = float(pre_stop["exec"]["command"][1])
    assert pod["terminationGracePeriodSeconds"] > pause + _grace_needed(service), service
    if service == "sse-gateway":
        assert pause > 0, "the gateway must leave the endpoints before it drains"


def _policies(prod: Docs) -> list[dict[str, Any]]:
    return [d["spec"] for d in prod if d["kind"] == "NetworkPolicy"]


def _selects(spec: dict[str, Any], labels: dict[str, str]) -> bool:
    selector = spec["podSelector"]
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In"
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def _pod_labels(prod: Docs, name: str) -> dict[str, str]:
    for doc in prod:
        if doc["kind"] in ("Deployment", "Job") and (
            doc["metadata"]["name"] == name
            or doc["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == name
        ):
            labels: dict[str, str] = doc["spec"]["template"]["metadata"]["labels"]
            return labels
    raise AssertionError(f"no pod template for {name}")


def _egress_ports(prod: Docs, pod: str) -> set[int]:
    """Ports `pod` may reach by TCP at an address outside the cluster's pods (any address)."""
    ports: set[int] = set()
    for spec in _policies(prod):
        if not _selects(spec, _pod_labels(prod, pod)):
            continue
        for rule in spec.get("egress", []):
            if "to" in rule and not any("ipBlock" in peer for peer in rule["to"]):
                continue
            ports |= {p["port"] for p in rule.get("ports", []) if p.get("protocol") == "TCP"}
    return ports


def _ingress_sources(prod: Docs, pod: str) -> list[dict[str, Any]]:
    sources: list[dict[str, Any]] = []
    for spec in _policies(prod):
        if _selects(spec, _pod_labels(prod, pod)):
            for rule in spec.get("ingress", []):
                sources += rule["from"]
    return sources


def test_prod_denies_by_default_every_pod_of_rita(prod: Docs) -> None:
    deny = [spec for spec in _policies(prod) if "ingress" not in spec and "egress" not in spec]
    assert deny == [
        {
            "podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "rita-connections"}},
            "policyTypes": ["Ingress", "Egress"],
        }
    ]
    for doc in prod:
        if doc["kind"] in ("Deployment", "Job"):
            assert _selects(deny[0], doc["spec"]["template"]["metadata"]["labels"])


def test_prod_network_policies_allow_exactly_the_documented_flows(prod: Docs) -> None:
    ingress_ns = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}
    }
    for pod in ("console", "connections-api", "sse-gateway"):
        assert ingress_ns in _ingress_sources(prod, pod), f"browsers cannot reach {pod}"
    for pod in ("status-consumer", "itsm-sync"):
        assert ingress_ns not in _ingress_sources(prod, pod), f"{pod} is open to browsers"
    api_peer = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "connections-api"}}}
    assert api_peer in _ingress_sources(prod, "itsm-sync")

    assert _egress_ports(prod, "connections-api") == {5432, 6379}
    assert _egress_ports(prod, "status-consumer") == {5671, 5672, 5432, 6379}
    assert _egress_ports(prod, "sse-gateway") == {6379}
    assert _egress_ports(prod, "itsm-sync") == {5671, 5672, 5432, 443}
    assert _egress_ports(prod, "console") == set()
    assert _egress_ports(prod, "connections-migrate") == {5432}


def test_itsm_sync_reaches_the_internet_but_no_private_address(prod: Docs) -> None:
    [internet] = [
        rule
        for spec in _policies(prod)
        if _selects(spec, _pod_labels(prod, "itsm-sync"))
        for rule in spec.get("egress", [])
        if any("ipBlock" in peer for peer in rule.get("to", []))
    ]
    [peer] = internet["to"]
    assert peer["ipBlock"]["cidr"] == "0.0.0.0/0"
    excluded = [ipaddress.ip_network(c) for c in peer["ipBlock"]["except"]]
    for private in ("10.1.2.3", "172.20.0.1", "192.168.1.1", "169.254.169.254"):
        assert any(ipaddress.ip_address(private) in net for net in excluded), private
    assert internet["ports"] == [{"protocol": "TCP", "port": 443}]


def test_prod_ingress_routes_one_origin_with_unbuffered_events(prod: Docs) -> None:
    [ingress] = _kind(prod, "Ingress").values()
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) > 900
    paths = {
        p["path"]: p["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    assert paths == {"/api": "connections-api", "/events": "sse-gateway", "/": "console"}
