#!/usr/bin/env bash
# Regenerate the committed AsyncAPI document of the status consumer (run by `make schema`).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
uv run python -m status_consumer.docs > asyncapi.json.tmp
mv asyncapi.json.tmp asyncapi.json
echo "wrote services/status-consumer/asyncapi.json"
