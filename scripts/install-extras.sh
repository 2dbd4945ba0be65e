#!/usr/bin/env bash
# Non-Python dependencies: the console's npm packages and Debian's Chromium for browser tests.
set -euo pipefail
if [ -f web/package.json ]; then
  if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules ]; then
    (cd web && npm ci --no-audit --no-fund)
  fi
fi
if [ -d tests/e2e ] && ! command -v chromium >/dev/null 2>&1; then
  echo "install-extras: installing Debian's chromium for browser tests"
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
