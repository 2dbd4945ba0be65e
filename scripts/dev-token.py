"""Print a 12-hour admin token for the development tenant (AUTH_JWT_SECRET from the environment)."""

from __future__ import annotations

import os
import sys

from connections_api.devtoken import mint_dev_token


def main() -> int:
    """Mint and print; one readable line and status 2 without a secret."""
    secret = os.environ.get("AUTH_JWT_SECRET")
    if not secret:
        sys.stderr.write("dev-token: AUTH_JWT_SECRET is required\n")
        return 2
    sys.stdout.write(mint_dev_token(secret) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
