#!/usr/bin/env node
// The `docker-watcher` command. It checks the Node version before anything else loads: on an older
// Node the CLI's imports would fail with "No such built-in module: node:sqlite" or a syntax error.
// The image's `docker-watcher` command (apps/server/Dockerfile) starts Node with V8 options that keep an
// idle server small and flat (bench/idle-memory.bench.ts, BENCHMARKS.md). They are not in this
// shebang: `env -S` is missing from BusyBox (Alpine images), where the command would not start at all.
const required = [22, 13] as const;
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < required[0] || (major === required[0] && minor < required[1])) {
  process.stderr.write(
    `docker-watcher needs Node.js ${required.join('.')} or newer (Node 24 LTS recommended); this is Node.js ${process.versions.node}.\n`,
  );
  process.exit(1);
}
await import('./cli.ts');
