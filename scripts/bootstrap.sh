#!/usr/bin/env bash
# Makes a fresh Debian machine ready to work on Docker Watcher, and is quick when run again:
# a Node >= 22.13 (Node 24 from the npm registry into .tools/ when the system one is older),
# pnpm at the version package.json pins, and the workspace's dependencies from the lockfile.
# Source it (". scripts/bootstrap.sh") to get the tools on PATH; run it to just prepare.
# Debian packages and the Docker Engine are the testkit's business (packages/testkit).

_dw_bootstrap() {
  local root tools node_version pnpm_version started
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  tools="${DW_TOOLS_DIR:-$root/.tools}"
  node_version="${DW_NODE_VERSION:-24.21.0}"
  pnpm_version="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$root/package.json")"
  started=$(date +%s%N)

  _dw_fail() {
    printf '\nbootstrap: %s\n  → %s\n\n' "$1" "$2" >&2
    return 1
  }

  # A node that satisfies engines.node (>= 22.13, where node:sqlite needs no flag), or none.
  _dw_good_node() {
    local candidate="$1" version major minor
    [ -x "$candidate" ] || command -v "$candidate" >/dev/null 2>&1 || return 1
    version="$("$candidate" -p 'process.versions.node' 2>/dev/null)" || return 1
    major="${version%%.*}"; minor="${version#*.}"; minor="${minor%%.*}"
    [ "$major" -gt 22 ] || { [ "$major" -eq 22 ] && [ "$minor" -ge 13 ]; }
  }

  local need_install=()
  if [ -z "${DW_FORCE_LOCAL_NODE:-}" ] && _dw_good_node node; then
    :
  elif _dw_good_node "$tools/node_modules/.bin/node"; then
    :
  else
    need_install+=("node@$node_version")
  fi
  if [ "$("$tools/node_modules/.bin/pnpm" --version 2>/dev/null)" != "$pnpm_version" ]; then
    need_install+=("pnpm@$pnpm_version")
  fi
  if [ "${#need_install[@]}" -gt 0 ]; then
    command -v npm >/dev/null 2>&1 || { _dw_fail "npm is missing, and it is needed to fetch ${need_install[*]}." "Install Debian's nodejs and npm (apt-get install -y nodejs npm), then run again."; return 1; }
    mkdir -p "$tools"
    echo "bootstrap: installing ${need_install[*]} into $tools"
    if ! npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "${need_install[@]}" >"$tools/npm-install.log" 2>&1; then
      _dw_fail "Could not install ${need_install[*]} from the npm registry ($(npm config get registry 2>/dev/null)): $(grep -m1 -iE 'ERR|error' "$tools/npm-install.log" || tail -n1 "$tools/npm-install.log")" \
        "Check the network to the npm registry (npm ping), or set npm_config_registry to a mirror; the full log is $tools/npm-install.log."
      return 1
    fi
  fi
  export PATH="$tools/node_modules/.bin:$PATH"
  if [ -n "${DW_FORCE_LOCAL_NODE:-}" ] || ! _dw_good_node node; then
    _dw_good_node "$tools/node_modules/.bin/node" || { _dw_fail "Node in $tools does not run." "Remove $tools and run again."; return 1; }
  fi

  if ! (cd "$root" && pnpm install --frozen-lockfile --prefer-offline --reporter=silent) >"$tools/pnpm-install.log" 2>&1; then
    _dw_fail "pnpm install failed: $(grep -m1 -iE 'ERR|error' "$tools/pnpm-install.log" || tail -n1 "$tools/pnpm-install.log")" \
      "Check the network to the npm registry; if the lockfile is out of date, run 'pnpm install' and commit pnpm-lock.yaml. Full log: $tools/pnpm-install.log."
    return 1
  fi
  echo "bootstrap: node $(node --version), pnpm $(pnpm --version), dependencies ready in $(( ($(date +%s%N) - started) / 1000000 )) ms"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  _dw_bootstrap
else
  _dw_bootstrap || return 1
fi
