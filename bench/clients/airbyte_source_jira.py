"""Run Airbyte's Jira source (`airbyte-source-jira`) reading the issues stream, trusting an
emulator's throwaway certificate authority. Runs inside an isolated environment:

    uv run --isolated --no-project --with airbyte-source-jira==... python airbyte_source_jira.py \
        CONFIG_JSON CA_FILE

The connector only calls `https://{domain}` and its requests session trusts certifi's bundle
(a `REQUESTS_CA_BUNDLE` is not enough), so before anything imports requests this points
`certifi.where()` at a temporary copy of that bundle with the authority appended. The issues
stream is read in full refresh from the config's `start_date`; Airbyte messages go to stdout.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path

import certifi


def trust(ca_file: str) -> Path:
    """certifi's bundle plus the authority, in a temp file that certifi now answers."""
    bundle = Path(tempfile.mkdtemp(prefix="airbyte-ca-")) / "cacert.pem"
    bundle.write_text(Path(certifi.where()).read_text() + "\n" + Path(ca_file).read_text())
    certifi.where = lambda: str(bundle)
    certifi.core.where = certifi.where
    os.environ["REQUESTS_CA_BUNDLE"] = str(bundle)
    return bundle


def catalog(folder: Path) -> Path:
    """A configured catalog with only the issues stream, in full refresh."""
    spec = importlib.util.find_spec("source_jira")
    origin = spec.origin if spec else None
    if origin is None:
        raise SystemExit("source_jira is not installed in this environment")
    schema = json.loads((Path(origin).parent / "schemas" / "issues.json").read_text())
    stream = {
        "name": "issues",
        "json_schema": schema,
        "supported_sync_modes": ["full_refresh", "incremental"],
    }
    path = folder / "catalog.json"
    path.write_text(
        json.dumps(
            {
                "streams": [
                    {
                        "stream": stream,
                        "sync_mode": "full_refresh",
                        "destination_sync_mode": "overwrite",
                    }
                ]
            }
        )
    )
    return path


def main() -> None:
    config, ca_file = sys.argv[1:3]
    bundle = trust(ca_file)
    path = catalog(bundle.parent)
    sys.argv = ["source-jira", "read", "--config", config, "--catalog", str(path)]
    importlib.import_module("source_jira.run").run()


if __name__ == "__main__":
    main()
