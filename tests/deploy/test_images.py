"""The Dockerfiles build every workspace member as a non-root image that never migrates at start."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _runtime_stage(dockerfile: Path) -> str:
    text = dockerfile.read_text()
    stages = text.split("\nFROM ")
    return stages[-1]


def test_service_image_runs_as_non_root_and_never_migrates_at_start() -> None:
    runtime = _runtime_stage(ROOT / "deploy" / "Dockerfile")
    assert "AS runtime" in runtime
    assert "USER 10001" in runtime
    assert "alembic" not in runtime
    assert "migrate" not in runtime.split("CMD")[1]


def test_service_image_copies_every_workspace_folder_the_lock_file_names() -> None:
    text = (ROOT / "deploy" / "Dockerfile").read_text()
    import tomllib

    members = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"]["workspace"][
        "members"
    ]
    for pattern in members:
        folder = pattern.split("/")[0]
        assert f"COPY {folder} ./{folder}" in text, f"the builder lacks {folder}/"


def test_console_image_is_built_by_vite_and_served_by_unprivileged_nginx() -> None:
    text = (ROOT / "deploy" / "console" / "Dockerfile").read_text()
    assert "npm ci" in text
    assert "npm run build" in text
    runtime = _runtime_stage(ROOT / "deploy" / "console" / "Dockerfile")
    assert runtime.startswith("nginxinc/nginx-unprivileged:")
    assert "default.conf.template /etc/nginx/templates/" in runtime
    assert (ROOT / "deploy" / "console" / "default.conf.template").is_file()


def test_every_variable_of_the_nginx_template_has_a_default_in_the_image() -> None:
    import re

    template = (ROOT / "deploy" / "console" / "default.conf.template").read_text()
    # Upper-case names are ours (envsubst fills them); nginx's own variables are lower case.
    wanted = set(re.findall(r"\$\{([A-Z_]+)\}", template))
    assert wanted == {"RITA_API_UPSTREAM", "RITA_EVENTS_UPSTREAM"}
    dockerfile = (ROOT / "deploy" / "console" / "Dockerfile").read_text()
    [env_line] = [line for line in dockerfile.splitlines() if line.startswith("ENV ")]
    defined = {item.split("=")[0] for item in env_line.removeprefix("ENV ").split()}
    assert wanted <= defined
