#!/usr/bin/env bash
# The one command that runs all of Docker Watcher's checks and tests on this machine, from a fresh
# clone: toolchain, lint, workspace conventions, typecheck, every test against real parts (the
# testkit starts a Docker Engine if none answers, and stops what it started), and the build.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
. scripts/bootstrap.sh
echo "test: setup (toolchain) took $(( $(date +%s) - started )) s"
pnpm -s lint
pnpm -s conventions
pnpm -s typecheck
mkdir -p .cache
status=0
pnpm -s vitest run --reporter=default --reporter=json --outputFile.json=.cache/vitest-report.json "$@" || status=$?
node -e '
  const r = JSON.parse(require("node:fs").readFileSync(".cache/vitest-report.json", "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
[ "$status" -eq 0 ] || exit "$status"
pnpm -s build
echo "test: all done in $(( $(date +%s) - started )) s"
