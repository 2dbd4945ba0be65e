#!/usr/bin/env bash
# `make dev`: development configuration, migrated databases, then every service under honcho.
set -euo pipefail
cd "$(dirname "$0")/.."
set -a
# shellcheck disable=SC1091
source deploy/dev.env
[ -f .env ] && source .env
set +a
bash scripts/migrate.sh

mkdir -p .dev
procfile=.dev/Procfile
: >"$procfile"
# honcho hands out its own PORT values (5000, 5100, ...): pin each service to its default port.
declare -A ports=([connections-api]=8000 [sse-gateway]=8001 [status-consumer]=8002 [itsm-sync]=8003 [fake-jira]=8004 [fake-servicenow]=8005)
for dir in services/*/; do
  name=$(basename "$dir")
  [ -f "$dir/pyproject.toml" ] && echo "$name: PORT=${ports[$name]:-} exec uv run $name" >>"$procfile"
done
[ -f web/package.json ] && echo "web: cd web && npm run dev -- --port 8080 --strictPort" >>"$procfile"
if [ ! -s "$procfile" ]; then
  echo "dev: no service exists yet (services/ is empty)"; exit 0
fi

echo "Rita connections, development mode:"
echo "  console        http://127.0.0.1:8080   (web)"
echo "  connections-api http://127.0.0.1:8000/docs"
echo "  sse-gateway    http://127.0.0.1:8001/events"
echo "  status-consumer http://127.0.0.1:8002/healthz"
echo "  itsm-sync      http://127.0.0.1:8003/healthz"
echo "  fake-jira      http://127.0.0.1:8004  (account: $FAKE_JIRA_ACCOUNTS)"
echo "  fake-servicenow http://127.0.0.1:8005  (accounts: ${FAKE_SERVICENOW_ACCOUNTS:-admin:fake-servicenow-password, no.incidents:fake-servicenow-password (cannot read incidents)})"
if [ -f scripts/dev-token.py ]; then
  echo "  dev token      $(uv run python scripts/dev-token.py)"
fi
exec uv run honcho -f "$procfile" start
