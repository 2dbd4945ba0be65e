"""Shared reads of the deployment files (no Docker engine or cluster on these machines)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?message}` (compose interpolation).
INTERPOLATION = re.compile(
    r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)
# kustomize v5 (kubectl 1.27+) reads the `labels` and `patches` fields the overlays use.
MIN_KUBECTL_MINOR = 27


def interpolate(text: str) -> str:
    """Compose's substitution with an empty environment: each default, or an error; `$$` → `$`."""

    def substitute(match: re.Match[str]) -> str:
        if match["op"] in (":-", "-"):
            return str(match["arg"])
        raise AssertionError(
            f"${{{match['name']}}} has no default: `docker compose up` needs it set"
        )

    return INTERPOLATION.sub(substitute, text.replace("$$", "\0")).replace("\0", "$")


def interpolate_values(node: Any) -> Any:
    """Substitute in every string of the parsed file, as compose does (after YAML parsing, so a
    `${FLAG:-true}` stays the string "true")."""
    if isinstance(node, str):
        return interpolate(node)
    if isinstance(node, dict):
        return {key: interpolate_values(value) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate_values(value) for value in node]
    return node


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def compose_text() -> str:
    return (ROOT / "docker-compose.yml").read_text()


@pytest.fixture(scope="session")
def compose(compose_text: str) -> dict[str, Any]:
    """docker-compose.yml as read with no `.env`: defaults substituted, anchors merged."""
    data = interpolate_values(yaml.safe_load(compose_text))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="session")
def kubectl() -> str:
    """The kubectl binary; a failure that names the fix when it is missing or too old."""
    path = shutil.which("kubectl")
    if path is None:
        pytest.fail(
            "kubectl is not installed: `make install` installs it (scripts/install-extras.sh); "
            "tests/deploy renders the Kubernetes overlays with `kubectl kustomize`"
        )
    out = subprocess.run(
        [path, "version", "--client", "-o", "json"], capture_output=True, text=True, check=False
    ).stdout
    minor = re.search(r'"minor":\s*"(\d+)', out)
    if minor is None or int(minor[1]) < MIN_KUBECTL_MINOR:
        pytest.fail(
            f"{path} is too old to render the overlays (needs kubectl 1.{MIN_KUBECTL_MINOR}+ for "
            f"kustomize v5; found {out.strip()[:200]!r})"
        )
    return path


@pytest.fixture(scope="session")
def render(kubectl: str) -> Callable[[str], list[dict[str, Any]]]:
    """`render(overlay)`: `kubectl kustomize deploy/k8s/overlays/<overlay>` as documents."""
    cache: dict[str, list[dict[str, Any]]] = {}

    def _render(overlay: str) -> list[dict[str, Any]]:
        if overlay not in cache:
            result = subprocess.run(
                [kubectl, "kustomize", str(ROOT / "deploy" / "k8s" / "overlays" / overlay)],
                capture_output=True,
                text=True,
                check=False,
            )
            assert result.returncode == 0, f"kustomize {overlay} failed: {result.stderr}"
            cache[overlay] = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
        return cache[overlay]

    return _render
