#!/usr/bin/env bash
# The test command as a new machine runs it: a fresh clone of this repository (HEAD, or the ref
# given) in a temporary folder, run with HOME and the XDG folders pointing at empty temporary
# folders and the system's PATH, so that nothing an earlier run left counts: no pnpm store or
# metadata cache, no .tools/, no node_modules, no dist/. The rest of the environment stays (the
# machine's own settings, such as the CA certificates Node is told about, are a new machine's too).
# Run it before every release.
#
#   ./scripts/fresh-clone-test.sh [ref] [-- args for scripts/test.sh]
#
# What it cannot take away is the machine itself: installed Debian packages, a running Docker
# Engine and the fixture image cache on it. For those, run it on a new machine (or stop the engine
# first, when nothing else uses it): the test command installs and starts what is missing.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
ref="${1:-HEAD}"
[ "$#" -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
commit="$(git -C "$repo" rev-parse --verify "$ref^{commit}")"
scratch="$(mktemp -d "${TMPDIR:-/tmp}/dw-fresh-clone-XXXXXX")"
home="$scratch/home"
mkdir -p "$home/.cache" "$home/.local/share" "$home/.config" "$home/.local/state"
git clone --quiet --no-local --no-checkout "$repo" "$scratch/clone"
git -C "$scratch/clone" checkout --quiet "$commit"
echo "fresh-clone: $commit in $scratch/clone, HOME=$home"
status=0
# Nothing of this shell's tools (DW_TOOLS_DIR, a .tools/ on PATH) or test runs (DW_TESTKIT_*) either.
env -u DW_TOOLS_DIR -u DW_TESTKIT_RUN -u DW_TESTKIT_RUN_DIR -u DW_TESTKIT_BROKER \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME="$home" \
  XDG_CACHE_HOME="$home/.cache" \
  XDG_DATA_HOME="$home/.local/share" \
  XDG_CONFIG_HOME="$home/.config" \
  XDG_STATE_HOME="$home/.local/state" \
  bash "$scratch/clone/scripts/test.sh" "$@" || status=$?
if [ "$status" -eq 0 ]; then
  rm -rf "$scratch"
  echo "fresh-clone: passed; $scratch removed"
else
  echo "fresh-clone: FAILED (exit $status); the clone and its HOME stay in $scratch for a look" >&2
fi
exit "$status"
