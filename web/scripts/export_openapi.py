"""Export connections-api's OpenAPI document to web/scripts/openapi.json (`--check`: fail if stale).

The app is built with dummy settings and never started: `app.openapi()` needs no database.
Dev mode is on so that `POST /api/dev/token`, which the console uses in development, is described.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from connections_api.app import create_app
from connections_api.config import Settings

OUTPUT = Path(__file__).resolve().parent / "openapi.json"


def render() -> str:
    """The document as stable, sorted JSON text."""
    settings = Settings(
        auth_jwt_secret="openapi-export-only",  # noqa: S106 - a dummy: the app is never served
        sync_webhook_secret="whsec_b3BlbmFwaS1leHBvcnQtb25seQ==",  # noqa: S106 - a dummy
        auth_dev_mode=True,
    )
    document = create_app(settings).openapi()
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> int:
    """Write the document, or with `--check` report whether the committed one is current."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args()
    fresh = render()
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != fresh:
            print(  # noqa: T201 - the one line a developer reads
                "web/scripts/openapi.json is stale: run `cd web && npm run openapi`",
                file=sys.stderr,
            )
            return 1
        return 0
    OUTPUT.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
