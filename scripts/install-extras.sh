#!/usr/bin/env bash
# Non-Python dependencies: the console's npm packages, Debian's Chromium for browser tests and
# kubectl for rendering the Kubernetes overlays in tests/deploy.
set -euo pipefail
if [ -f web/package.json ]; then
  if [ ! -d web/node_modules ] || [ web/package-lock.json -nt web/node_modules ]; then
    (cd web && npm ci --no-audit --no-fund)
  fi
fi
apt_updated=
apt_install() { # package...
  [ -n "$apt_updated" ] || { apt-get update -qq; apt_updated=1; }
  apt-get install -y -qq "$@" >/dev/null
}
if [ -d tests/e2e ] && ! command -v chromium >/dev/null 2>&1; then
  echo "install-extras: installing Debian's chromium for browser tests"
  apt_install chromium
fi
# The machines ship kubectl 1.32; where it is missing, Debian's `kubernetes-client` provides one
# (tests/deploy names the version it needs when the one found is too old for kustomize v5).
if [ -d deploy/k8s ] && ! command -v kubectl >/dev/null 2>&1; then
  echo "install-extras: installing Debian's kubernetes-client (kubectl) for tests/deploy"
  apt_install kubernetes-client
fi
