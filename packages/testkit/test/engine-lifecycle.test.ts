import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

it('stops a dockerd it started and waits for it, even when nothing else keeps Node running', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-engine-'));
  try {
    // A separate Node process, so that an event loop with nothing left in it ends the script early.
    const script = `
      import { ensureDockerEngine } from ${JSON.stringify(join(import.meta.dirname, '../src/docker-engine.ts'))};
      const engine = await ensureDockerEngine({
        socketPath: ${JSON.stringify(join(dir, 'docker.sock'))},
        root: true,
        dockerdCandidates: [${JSON.stringify(join(import.meta.dirname, 'fixtures/fake-dockerd.mjs'))}],
        logFile: ${JSON.stringify(join(dir, 'dockerd.log'))},
      });
      console.log('started by us:', engine.startedByUs);
      await engine.stop();
      console.log('stopped');
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 30_000,
    });
    expect(stdout).toBe('started by us: true\nstopped\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
