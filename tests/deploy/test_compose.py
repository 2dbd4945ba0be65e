"""docker-compose.yml stays runnable without a Docker engine to try it: structure, images and build
contexts, health checks, start order, and every service's settings loading from its environment."""

from __future__ import annotations

import importlib
import os
import re
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
SERVERS = sorted(p.parent.name for p in (ROOT / "services").glob("*/pyproject.toml"))
EMULATORS = [name for name in SERVERS if name.startswith("fake-")]
APPS = [name for name in SERVERS if name not in EMULATORS]
MEMBERS = {p.parent.name for p in ROOT.glob("*/*/pyproject.toml") if p.parts[-3] != "libs"}
INFRASTRUCTURE = {"postgres", "rabbitmq", "redis"}
# Compose-spec service keys this file may use: compose would ignore nothing, but a misspelt key
# (`healtcheck`) loses its effect quietly in review, so an unknown one fails here. Extend as needed.
SERVICE_KEYS = {
    "build", "command", "depends_on", "entrypoint", "environment", "healthcheck", "hostname",
    "image", "ports", "profiles", "restart", "stop_grace_period", "volumes",
}  # fmt: skip
TOP_LEVEL_KEYS = {"name", "services", "volumes"}


def _one_shot(spec: dict[str, Any]) -> bool:
    """A step that runs and exits (migrations, the CLI), as opposed to a server."""
    return spec.get("restart") == "no"


def test_the_file_uses_only_known_compose_keys(compose: dict[str, Any]) -> None:
    assert {key for key in compose if not key.startswith("x-")} <= TOP_LEVEL_KEYS
    for name, spec in compose["services"].items():
        assert set(spec) <= SERVICE_KEYS, f"{name}: unknown keys {set(spec) - SERVICE_KEYS}"
        check = spec.get("healthcheck", {})
        assert set(check) <= {"test", "interval", "timeout", "retries", "start_period"}, name
        for value in spec.get("environment", {}).values():
            assert isinstance(value, str), f"{name}: quote {value!r} (compose wants strings)"


def test_every_server_is_a_compose_service_built_from_its_own_folder(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name in SERVERS:
        assert name in services, f"docker-compose.yml lacks {name}"
        assert services[name]["build"]["args"]["SERVICE"] == name
        assert services[name]["environment"]["PORT"], f"{name} has no PORT"


def test_the_operator_cli_is_a_one_shot_tool(compose: dict[str, Any]) -> None:
    cli = compose["services"]["rita-ops"]
    assert cli["profiles"] == ["tools"]
    assert cli["entrypoint"] == ["rita-ops"]
    assert cli["build"]["args"]["SERVICE"] == "rita-ops"
    assert (ROOT / "tools" / "rita-ops" / "pyproject.toml").is_file()


def test_emulators_run_only_in_the_dev_profile(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert EMULATORS, "no emulator found under services/"
    for name in EMULATORS:
        assert services[name].get("profiles") == ["dev"], name
    for name in [*APPS, *INFRASTRUCTURE, "console", "migrate"]:
        assert "profiles" not in services[name], f"{name} must start by default"


def test_every_build_context_dockerfile_and_member_exists(compose: dict[str, Any]) -> None:
    for name, spec in compose["services"].items():
        assert "image" in spec, f"{name} names no image"
        build = spec.get("build")
        if build is None:
            continue
        context = ROOT / build["context"]
        assert context.resolve() == ROOT, f"{name}: images are built from the repository root"
        assert (context / build["dockerfile"]).is_file(), f"{name}: {build['dockerfile']} missing"
        member = build.get("args", {}).get("SERVICE")
        if member is not None:
            assert member in MEMBERS, f"{name}: SERVICE={member} is no workspace member"
            assert spec["image"].startswith(f"rita/{member}:"), name


def test_every_server_has_a_health_check_and_one_shot_steps_do_not_restart(
    compose: dict[str, Any],
) -> None:
    for name, spec in compose["services"].items():
        if _one_shot(spec):
            assert "healthcheck" not in spec, name
            continue
        check = spec.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), name
        assert spec["restart"] == "unless-stopped", name
    for name in APPS:
        probe = " ".join(compose["services"][name]["healthcheck"]["test"])
        assert "/healthz" in probe, name
        assert "os.environ['PORT']" in probe, name


def test_dependencies_wait_for_health_or_for_a_one_shot_to_succeed(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    for name, spec in services.items():
        for dependency, condition in (spec.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            expected = (
                "service_completed_successfully"
                if _one_shot(services[dependency])
                else "service_healthy"
            )
            assert condition["condition"] == expected, f"{name} → {dependency}"
            # A default service never waits for one that only starts under a profile.
            if "profiles" not in spec:
                assert "profiles" not in services[dependency], f"{name} → {dependency}"


def test_apps_start_after_the_migrations_and_the_servers_they_use(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    needs = {
        "connections-api": {"migrate", "redis"},
        "status-consumer": {"migrate", "rabbitmq", "redis"},
        "sse-gateway": {"redis"},
        "itsm-sync": {"migrate-itsm-sync", "rabbitmq"},
        "console": {"connections-api", "sse-gateway"},
    }
    for name, deps in needs.items():
        assert deps <= set(services[name]["depends_on"]), name
    for step in ("migrate", "migrate-itsm-sync"):
        assert services[step]["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_volumes_are_declared_and_bind_mounts_exist(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes") or {})
    for name in INFRASTRUCTURE:
        mounts = compose["services"][name].get("volumes", [])
        named = {m.split(":")[0] for m in mounts if not m.startswith(".")}
        assert named, f"{name} keeps its data in no volume"
        assert named <= declared, f"{name} uses undeclared volumes {named - declared}"
        for mount in mounts:
            if mount.startswith("."):
                assert (ROOT / mount.split(":")[0]).exists(), mount


def test_every_interpolated_variable_has_a_default(compose_text: str) -> None:
    # The `compose` fixture already substituted them; here, also no bare `$NAME` forms slip by.
    bare = re.findall(r"(?<!\$)\$(?!\{|\$)[A-Za-z_]+", compose_text)
    assert bare == [], f"use ${{NAME:-default}} rather than {bare}"


def _settings_classes(service: str) -> list[type[BaseSettings]]:
    module = importlib.import_module(f"{service.replace('-', '_')}.config")
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseSettings)
        and value.__module__ == module.__name__
    ]
    assert classes, f"{service}: no settings class in its config module"
    return classes


@pytest.mark.parametrize("service", SERVERS)
def test_each_service_settings_load_from_its_compose_environment(
    compose: dict[str, Any], service: str
) -> None:
    """Every variable a service requires is defined, and every value is one it accepts."""
    environment = {
        key: str(value) for key, value in compose["services"][service]["environment"].items()
    }
    with mock.patch.dict(os.environ, environment, clear=True):
        for settings_class in _settings_classes(service):
            settings = settings_class()  # raises a ValidationError naming a missing variable
            port = getattr(settings, "port", None) or getattr(settings, "PORT", None)
            assert port == int(environment["PORT"]), service


def test_the_migration_steps_and_the_cli_see_the_same_database_as_the_apps(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    url = services["connections-api"]["environment"]["DATABASE_URL"]
    assert services["migrate"]["environment"]["DATABASE_URL"] == url
    assert services["status-consumer"]["environment"]["DATABASE_URL"] == url
    assert services["rita-ops"]["environment"]["DATABASE_URL"] == url
    itsm = services["itsm-sync"]["environment"]["ITSM_SYNC_DATABASE_URL"]
    assert services["migrate-itsm-sync"]["environment"]["DATABASE_URL"] == itsm


def test_console_proxies_api_and_events_with_sse_settings(
    compose: dict[str, Any], repo_root: Path
) -> None:
    console = compose["services"]["console"]
    assert console["environment"] == {
        "RITA_API_UPSTREAM": "connections-api:8000",
        "RITA_EVENTS_UPSTREAM": "sse-gateway:8001",
    }
    conf = (repo_root / "deploy" / "console" / "default.conf.template").read_text()
    locations = dict(re.findall(r"location\s+(?:=\s+)?(\S+)\s*\{(.*?)\n    \}", conf, re.S))
    assert "proxy_pass http://${RITA_API_UPSTREAM};" in locations["/api/"]
    events = locations["/events"]
    assert "proxy_pass http://${RITA_EVENTS_UPSTREAM};" in events
    assert "proxy_buffering off;" in events
    timeout = re.search(r"proxy_read_timeout (\d+)(h|m|s);", events)
    assert timeout is not None
    seconds = int(timeout[1]) * {"h": 3600, "m": 60, "s": 1}[timeout[2]]
    from sse_gateway.config import Settings as GatewaySettings

    lifetime = GatewaySettings.model_fields["gateway_max_lifetime_seconds"].default
    assert seconds > lifetime, "nginx would cut a stream before the gateway's own reconnect"
    assert "try_files $uri /index.html;" in locations["/"]


def _console_scripts() -> set[str]:
    import tomllib

    scripts: set[str] = set()
    for pyproject in ROOT.glob("*/*/pyproject.toml"):
        scripts |= set(tomllib.loads(pyproject.read_text()).get("project", {}).get("scripts", {}))
    return scripts


def test_one_shot_steps_run_commands_the_workspace_installs(compose: dict[str, Any]) -> None:
    scripts = _console_scripts()
    for name, spec in compose["services"].items():
        if not _one_shot(spec):
            continue
        command = spec.get("entrypoint") or spec["command"]
        assert command[0] in scripts, f"{name} runs {command[0]}, which no member installs"
