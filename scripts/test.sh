#!/usr/bin/env bash
# The one command that runs all of Docker Watcher's checks and tests on this machine, from a fresh
# clone: toolchain, lint, workspace conventions, typecheck, core's API report, every test against
# real parts (the testkit starts a Docker Engine if none answers, and stops what it started), the
# build, and the release rehearsal (packed packages installed and used outside the workspace).
# Every step runs even when an earlier one failed; the last line counts every failure
# (`N passed, N failed, N skipped`), and the exit code is non-zero when anything failed.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
. scripts/bootstrap.sh
echo "test: setup (toolchain) took $(( $(date +%s) - started )) s"

failed_steps=()
step() {
  local name="$1"
  shift
  echo "test: $name"
  "$@" || failed_steps+=("$name")
}

step lint pnpm -s lint
step conventions pnpm -s conventions
step typecheck pnpm -s typecheck
step api-report pnpm -s api-report

mkdir -p .cache
# A stale report must never speak for this run: the summary reads only what this run wrote.
rm -f .cache/test-report.json
status=0
DW_TEST_REPORT=.cache/test-report.json pnpm -s vitest run --reporter=default --reporter=./scripts/summary-reporter.ts "$@" || status=$?

step build pnpm -s build
step release-rehearsal node scripts/release-rehearsal.ts

echo "test: all done in $(( $(date +%s) - started )) s"
summary_args=()
for name in "${failed_steps[@]}"; do summary_args+=(--failed-step "$name"); done
node scripts/test-summary.ts .cache/test-report.json "$status" "${summary_args[@]}"
[ "$status" -eq 0 ] && [ "${#failed_steps[@]}" -eq 0 ]
