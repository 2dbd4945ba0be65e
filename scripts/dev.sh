#!/usr/bin/env bash
# `make dev`: development configuration, migrated databases, then every service under honcho.
set -euo pipefail
cd "$(dirname "$0")/.."
set -a
# shellcheck disable=SC1091
source deploy/dev.env
[ -f .env ] && source .env
# Development listens on loopback only, whatever .env says (every service reads HOST).
HOST=127.0.0.1
# One knob for both emulators' per-request latency, to watch a slow import: DEV_LATENCY_MS=300 make dev
if [ -n "${DEV_LATENCY_MS:-}" ]; then
  FAKE_JIRA_LATENCY_MS=${FAKE_JIRA_LATENCY_MS:-$DEV_LATENCY_MS}
  FAKE_SERVICENOW_LATENCY_MS=${FAKE_SERVICENOW_LATENCY_MS:-$DEV_LATENCY_MS}
fi
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
[ -f web/package.json ] && echo "web: cd web && npm run dev -- --host 127.0.0.1 --port 8080 --strictPort" >>"$procfile"

echo "Rita connections, development mode:"
echo "  console        http://127.0.0.1:8080   (web)"
echo "  connections-api http://127.0.0.1:8000/docs"
echo "  sse-gateway    http://127.0.0.1:8001/events"
echo "  status-consumer http://127.0.0.1:8002/healthz"
echo "  itsm-sync      http://127.0.0.1:8003/healthz"
echo "  fake-jira      http://127.0.0.1:8004  (account: $FAKE_JIRA_ACCOUNTS; in the Jira form: URL http://127.0.0.1:8004, Email and API token from that pair)"
echo "  fake-servicenow http://127.0.0.1:8005  (accounts: ${FAKE_SERVICENOW_ACCOUNTS:-admin:fake-servicenow-password, no.incidents:fake-servicenow-password (cannot read incidents)})"
[ -n "${DEV_LATENCY_MS:-}" ] && echo "  emulator latency ${DEV_LATENCY_MS} ms per request (DEV_LATENCY_MS)"
echo "  sign-in        automatic: the console mints a dev-tenant admin token (AUTH_DEV_MODE=true);"
echo "                 a member or another tenant: see 'Development: signing in' in README.md"
if [ -f scripts/dev-token.py ]; then
  echo "  dev token      $(uv run python scripts/dev-token.py)"
fi
# Ctrl-C is the normal way out and exits 0. Job control (`set -m`) runs honcho in its own process
# group that owns the terminal (`fg`), so Ctrl-C reaches honcho (which stops every service and
# answers 130) and not `make`, which would otherwise die of the signal and report failure.
set -m
status=0
uv run honcho -f "$procfile" start &
honcho=$!
# Honcho's own process group does not hear a SIGTERM sent to `make` or to this script (an IDE's
# stop button, `timeout make dev`): a watchdog stops honcho, and so every service, when either
# of them is gone.
parent=$PPID
(
  while kill -0 $$ 2>/dev/null && kill -0 "$parent" 2>/dev/null; do sleep 1; done
  kill -TERM -- "-$honcho" 2>/dev/null || true
) >/dev/null 2>&1 &
watchdog=$!
fg %1 >/dev/null || status=$?
kill "$watchdog" 2>/dev/null || true
[ "$status" = 130 ] && exit 0
exit "$status"
