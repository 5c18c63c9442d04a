import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
const cli = join(root, 'apps/server/src/cli.ts');

function run(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, ['--conditions=@docker-watcher/source', cli, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const exampleEnv = {
  REGISTRY_TOKEN: 'registry-secret-value-123',
  REGISTRY_WEBHOOK_SECRET: 'hook-secret-value-456',
  DW_CI_TOKEN: 'ci-token-value-0123456789',
  DW_READ_TOKEN: 'read-token-value-0123456789',
};

describe('docker-watcher CLI', () => {
  it('check: 0 and a summary for a good file', () => {
    const { code, stdout } = run(['check', '--config', 'examples/configs/plan.yml'], exampleEnv);
    expect(code).toBe(0);
    expect(stdout).toContain('examples/configs/plan.yml is valid: 1 registries, 1 projects, 3 stages');
  });

  it('check: 1 and every problem with its path, never a secret value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-cli-'));
    const file = join(dir, 'bad.yml');
    writeFileSync(
      file,
      [
        'registries:',
        '  main: { type: oci, url: https://r.example.com, token_env: REGISTRY_TOKEN }',
        'projects:',
        '  web-app:',
        '    registry: main',
        '    image: r.example.com/team/web-app',
        '    stages:',
        '      rel: { tag_pattern: "v*" }',
        '      prod: { promote_from: qa }',
        '  api:',
        '    registry: other',
        '    image: api',
        '    stages: { prod: {} }',
      ].join('\n'),
    );
    const { code, stderr } = run(['check', '--config', file], {
      REGISTRY_TOKEN: 'registry-secret-value-123',
    });
    expect(code).toBe(1);
    expect(stderr).toContain(`${file} has 3 problems:`);
    // The adapter's own schema speaks too.
    expect(stderr).toContain(
      'registries.main.username: username and password go together: set both or neither',
    );
    expect(stderr).toContain('projects.web-app.stages.prod.promote_from: no stage "qa" in project web-app');
    expect(stderr).toContain('projects.api.registry: no registry named "other"; known: main');
    expect(stderr).not.toContain('registry-secret-value-123');
    const missing = run(['check', '--config', file]);
    expect(missing.stderr).toContain(
      'registries.main.token_env: environment variable REGISTRY_TOKEN is not set',
    );
  });

  it('check --json, and a missing file', () => {
    const good = run(['check', '--json', '--config', 'examples/configs/plan.yml'], exampleEnv);
    expect(JSON.parse(good.stdout)).toMatchObject({ valid: true, projects: 1, stages: 3 });
    const none = run(['check', '--json', '--config', 'nope.yml']);
    expect(none.code).toBe(1);
    expect(JSON.parse(none.stdout)).toEqual({
      valid: false,
      file: 'nope.yml',
      problems: [{ path: '', message: 'cannot read nope.yml (ENOENT)' }],
      warnings: [],
    });
  });

  it('usage errors exit 2; the remote commands report an unreachable server', () => {
    expect(run(['deploy', 'web-app']).code).toBe(2);
    const down = run(['plan', '--url', 'http://127.0.0.1:9']);
    expect(down.code).toBe(1);
  });

  it('serve with a broken file starts nothing and says why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-cli-serve-'));
    const file = join(dir, 'broken.yml');
    writeFileSync(
      file,
      'global:\n  target: { type: docker }\n  server: { listen: 127.0.0.1:0 }\nregistries: {}\nprojects:\n  web: { registry: nope, image: web, stages: { dev: {} } }\n',
    );
    const { code, stderr, stdout } = run(['serve', '--config', file]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('projects.web.registry: no registry named "nope"');
  });
});
