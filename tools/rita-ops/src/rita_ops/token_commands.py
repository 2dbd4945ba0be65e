"""`rita-ops token mint`: development tokens (HS256 with AUTH_JWT_SECRET)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer

from contracts import Principal, Role
from rita_auth import issue_token
from rita_ops.common import JsonOpt, fail_usage
from rita_ops.config import load_settings
from rita_ops.output import emit_object

token_app = typer.Typer(help="Tokens for development (AUTH_DEV_MODE=true).", no_args_is_help=True)


@token_app.command("mint")
def token_mint(
    *,
    tenant: Annotated[UUID, typer.Option("--tenant", help="The token's tenant_id.")],
    role: Annotated[Role, typer.Option("--role", help="owner, admin or member.")] = Role.ADMIN,
    subject: Annotated[str, typer.Option("--sub", help="The token's subject.")] = "rita-ops",
    email: Annotated[str | None, typer.Option("--email")] = None,
    ttl: Annotated[int, typer.Option("--ttl", min=60, max=86_400, help="Seconds.")] = 3600,
    json_out: JsonOpt = False,
) -> None:
    """An HS256 user token signed with AUTH_JWT_SECRET, for development (AUTH_DEV_MODE=true)."""
    settings = load_settings()
    if not settings.auth_dev_mode:
        raise fail_usage("token mint is for development; set AUTH_DEV_MODE=true")
    if settings.auth_jwt_secret is None or not settings.auth_jwt_secret.get_secret_value():
        raise fail_usage("AUTH_JWT_SECRET is required to mint a token")
    principal = Principal(sub=subject, email=email, tenant_id=tenant, role=role)
    token = issue_token(settings.auth_jwt_secret, principal, ttl_seconds=ttl)
    if json_out:
        emit_object(
            {"token": token, "tenant_id": tenant, "role": role.value, "expires_in": ttl},
            as_json=True,
        )
    else:
        typer.echo(token)
