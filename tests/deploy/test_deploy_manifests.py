"""Deployment files stay valid and cover every service (no Docker engine here to run them)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))


def _compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_compose_has_every_service_with_a_health_check() -> None:
    services = _compose()["services"]
    for name in SERVICES:
        assert name in services, f"deploy/compose.yaml lacks {name}"
        assert services[name]["build"]["args"]["SERVICE"] == name
        assert "healthcheck" in services[name], f"{name} has no healthcheck"


def test_compose_dependencies_wait_for_health_or_completion() -> None:
    services = _compose()["services"]
    allowed = {"service_healthy", "service_completed_successfully"}
    for name, spec in services.items():
        for dependency, condition in (spec.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition["condition"] in allowed


def test_dockerfile_runs_as_non_root_and_never_migrates_at_start() -> None:
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "USER 10001" in text
    assert (
        "alembic"
        not in text.split("FROM python:${PYTHON_VERSION}-slim AS runtime")[1].split("CMD")[1]
    )


def _rendered_overlay() -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed: cannot render the kustomize overlay")
    result = subprocess.run(
        [kubectl, "kustomize", str(ROOT / "deploy" / "k8s" / "overlays" / "dev")],
        capture_output=True,
        text=True,
        check=True,
    )
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def test_kustomize_overlay_renders_deployments_with_probes_limits_and_security() -> None:
    docs = _rendered_overlay()
    deployments = [d for d in docs if d["kind"] == "Deployment"]
    assert {d["metadata"]["name"] for d in deployments} >= set(SERVICES) - {"fake-jira"}
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        [container] = pod["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert "requests" in container["resources"]
        assert deployment["metadata"]["namespace"] == "rita-dev"
    assert sum(1 for d in docs if d["kind"] == "Job") == 2
