#!/usr/bin/env -S node --max-semi-space-size=1 --optimize-for-size
// The `docker-watcher` command. It checks the Node version before anything else loads: on an older
// Node the CLI's imports would fail with "No such built-in module: node:sqlite" or a syntax error.
// The shebang's V8 options keep an idle server small and flat (bench/idle-memory.bench.ts, 100 watched
// repositories): `--optimize-for-size` collects the old generation before it grows (without it, RSS
// stepped up cycle after cycle, 114 -> 158 MB in 2 minutes polling every second), and a 1 MB young
// generation (default: grows to 16 MB per semi-space and stays) saves about 30 MB more (CPU: BENCHMARKS.md).
// `env -S` passes them on Linux (coreutils 8.30+, the image's Debian) and macOS.
const required = [22, 13] as const;
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < required[0] || (major === required[0] && minor < required[1])) {
  process.stderr.write(
    `docker-watcher needs Node.js ${required.join('.')} or newer (Node 24 LTS recommended); this is Node.js ${process.versions.node}.\n`,
  );
  process.exit(1);
}
await import('./cli.ts');
