#!/usr/bin/env bash
# The one command that runs Docker Watcher's main job on this machine, from a fresh clone: the demo
# in examples/server-demo (a Docker Engine if none answers, a local registry, Caddy and the reference
# server on SQLite, showing deploys through real subdomain routing on loopback). Ctrl-C stops it.
# The SDK-only quick start stays runnable: cd examples/quick-start && pnpm start.
set -euo pipefail
# The demo reports the time from here to its first automatic deploy, installs included.
DW_DEMO_STARTED_AT="$(date +%s%3N)"
export DW_DEMO_STARTED_AT
cd "$(dirname "$0")/.."
. scripts/bootstrap.sh
cd examples/server-demo
exec node --conditions=@docker-watcher/source src/main.ts "$@"
