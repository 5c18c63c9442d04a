import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { root } from './workspace.ts';

it('says what is wrong and what to do when the npm registry cannot be reached, and exits non-zero', () => {
  const tools = mkdtempSync(join(tmpdir(), 'dw-bootstrap-'));
  try {
    const result = spawnSync('bash', [join(root, 'scripts/bootstrap.sh')], {
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        DW_TOOLS_DIR: tools,
        DW_FORCE_LOCAL_NODE: '1',
        // Nothing listens on port 9 of loopback: the same as no network to the registry.
        npm_config_registry: 'http://127.0.0.1:9/',
        npm_config_fetch_retries: '0',
        npm_config_fetch_timeout: '5000',
      },
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('Could not install node@');
    expect(result.stderr).toContain('from the npm registry (http://127.0.0.1:9/)');
    expect(result.stderr).toContain('→ Check the network to the npm registry');
  } finally {
    rmSync(tools, { recursive: true, force: true });
  }
});
