"""`rita-ops token mint`: development tokens the API accepts; never the secret itself."""

from __future__ import annotations

import json
import uuid
from typing import Any

from contracts import Role
from rita_auth import JwtVerifier


def test_mint_is_refused_outside_dev_mode(ops: Any) -> None:
    result = ops("token", "mint", "--tenant", str(uuid.uuid4()))
    assert result.exit_code == 2
    assert "AUTH_DEV_MODE=true" in result.stderr
    assert result.stdout == ""


def test_mint_signs_a_token_for_the_tenant_and_role(ops: Any) -> None:
    tenant = uuid.uuid4()
    result = ops(
        "token", "mint", "--tenant", str(tenant), "--role", "member", "--json",
        extra_env={"AUTH_DEV_MODE": "true"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    minted = json.loads(result.stdout)
    principal = JwtVerifier(secret=ops.env["AUTH_JWT_SECRET"]).verify(minted["token"])
    assert principal.tenant_id == tenant
    assert principal.role is Role.MEMBER
    assert ops.env["AUTH_JWT_SECRET"] not in result.output


def test_mint_without_a_secret_says_which_variable(ops: Any) -> None:
    result = ops(
        "token", "mint", "--tenant", str(uuid.uuid4()),
        extra_env={"AUTH_DEV_MODE": "true", "AUTH_JWT_SECRET": ""},
    )  # fmt: skip
    assert result.exit_code == 2
    assert "AUTH_JWT_SECRET is required" in result.stderr


def test_an_unreachable_server_is_one_line_without_its_password(ops: Any) -> None:
    result = ops(
        "runs", "list", "--stuck",
        extra_env={"DATABASE_URL": "postgresql+asyncpg://ops:hunter2@127.0.0.1:1/rita"},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "hunter2" not in result.output
    assert result.stderr.startswith("rita-ops: ")
    broker = ops("dlq", "list", extra_env={"RABBITMQ_URL": "amqp://ops:hunter2@127.0.0.1:1/"})
    assert broker.exit_code == 1
    assert "hunter2" not in broker.output
