import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');

// The idle-memory figures (bench/idle-memory.bench.ts) depend on V8 options that the image's
// `docker-watcher` command passes to Node; the installed command's shebang must stay plain, since
// BusyBox's `env` (Alpine images) has no `-S` and would not start the command at all.
it("the image's docker-watcher command starts Node with the memory options, and bin.ts's shebang is plain", () => {
  const shebang = readFileSync(join(root, 'apps/server/src/bin.ts'), 'utf8').split('\n')[0];
  expect(shebang).toBe('#!/usr/bin/env node');
  const dockerfile = readFileSync(join(root, 'apps/server/Dockerfile'), 'utf8');
  expect(dockerfile).toMatch(
    /exec node --max-semi-space-size=1 --optimize-for-size --max-opt=1 --no-wasm-tier-up --no-wasm-dynamic-tiering \/app\/dist\/bin\.js "\$@"/,
  );
  expect(dockerfile).toMatch(/^ENTRYPOINT \["docker-watcher"\]$/m);
});
