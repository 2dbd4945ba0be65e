"""`rita-ops`: the operator's commands. Each one takes `--json`; the destructive ones `--dry-run`.

Settings come from the same environment variables as the services (DATABASE_URL, RABBITMQ_URL,
REDIS_URL, STATUS_QUEUE, EVENTS_KEY_PREFIX, AUTH_JWT_SECRET). Exit status: 0 done, 1 the action
could not be done as asked (the message says why), 2 bad configuration or arguments.
"""

from __future__ import annotations

import typer

from rita_ops.db_commands import connections_app, runs_app, webhooks_app
from rita_ops.dlq_commands import dlq_app
from rita_ops.token_commands import token_app

app = typer.Typer(
    help="Operate Rita Connections: dead letters, runs, connections, the webhook outbox, dev "
    "tokens. Every command takes --json; the destructive ones take --dry-run.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(dlq_app, name="dlq")
app.add_typer(runs_app, name="runs")
app.add_typer(connections_app, name="connections")
app.add_typer(webhooks_app, name="webhooks")
app.add_typer(token_app, name="token")


def main() -> None:
    """Console script entry point."""
    app()
