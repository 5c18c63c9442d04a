// The server's name on the Docker Engine (`global.instance`), which the docker target writes as a
// label and keeps to: set in the file, or derived from the store so that replicas on one store
// share it and two servers with stores of their own differ (issue #16: two servers on one engine).
import { resolve } from 'node:path';
import { ConfigError } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { loadConfigText } from '../src/config/load.ts';
import { env } from './support.ts';

const text = (global: string) => `
global:
${global}
registries:
  local: { type: memory }
projects:
  web:
    registry: local
    image: registry.test/web
    stages:
      dev: { tag_pattern: "dev-*" }
`;

const instanceOf = async (global: string): Promise<unknown> =>
  (await loadConfigText(text(global), env)).target.options.instance;

describe('global.instance', () => {
  it('names the docker target instance; the target section’s own wins', async () => {
    expect(await instanceOf('  instance: staging-a\n  store: "memory:"')).toBe('staging-a');
    expect(
      await instanceOf(
        '  instance: staging-a\n  store: "memory:"\n  target: { type: docker, instance: own }',
      ),
    ).toBe('own');
  });

  it('defaults to one derived from the store: the same for one store, another for another, never its password', async () => {
    const sqlite = await instanceOf('  store: sqlite:./data/a.db');
    expect(sqlite).toMatch(/^dw-[0-9a-f]{12}$/);
    expect(await instanceOf(`  store: sqlite:${resolve('data/a.db')}`)).toBe(sqlite);
    expect(await instanceOf('  store: sqlite:./data/b.db')).not.toBe(sqlite);
    const postgres = await instanceOf('  store: postgres://watcher:one-password@db.test:5432/watcher');
    expect(await instanceOf('  store: postgres://other:another-password@DB.test/watcher')).toBe(postgres);
    expect(await instanceOf('  store: postgres://watcher:one-password@db.test:5432/other')).not.toBe(
      postgres,
    );
    expect(String(postgres)).not.toContain('password');
  });

  it('refuses a name Docker labels and logs should not carry', async () => {
    await expect(loadConfigText(text('  instance: "two words"\n  store: "memory:"'), env)).rejects.toThrow(
      ConfigError,
    );
    await expect(loadConfigText(text('  instance: "two words"\n  store: "memory:"'), env)).rejects.toThrow(
      /global\.instance: must be letters, digits/,
    );
  });
});
