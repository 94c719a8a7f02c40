#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh Debian machine, then runs the whole suite:
# build (tsc -b), lint + format check (Biome), unit, contract, HTTP and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."

# System packages, all from Debian:
# - Go's reference tlog/note code (golang.org/x/mod) is the second, independent client that audits
#   a running server in tests/e2e/tiles-audit.test.ts;
# - PostgreSQL 15 binaries: the PostgreSQL store tests start throwaway clusters with initdb/pg_ctl;
# - Chromium: the viewer's end-to-end tests drive it with playwright-core (never a downloaded browser).
missing=()
command -v go >/dev/null 2>&1 || missing+=(golang-go)
[ -d /usr/share/gocode/src/golang.org/x/mod/sumdb ] || missing+=(golang-golang-x-mod-dev)
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

npm ci --no-audit --no-fund
npm test
