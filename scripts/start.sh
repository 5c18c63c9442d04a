#!/usr/bin/env bash
# The one command that runs Docker Watcher's main job on this machine, from a fresh clone.
# Until the reference server exists, that is the quick-start example (examples/quick-start):
# a real local registry, tag policies per stage, releases running by digest. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bootstrap.sh
cd examples/quick-start
exec node --conditions=@docker-watcher/source src/main.ts "$@"
