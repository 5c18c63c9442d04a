import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConfigProblem } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { inspectConfigText } from '../src/config/load.ts';
import { configReferenceText } from '../src/config/reference.ts';

const planDir = join(import.meta.dirname, 'fixtures/plan');
const planText = readFileSync(join(planDir, 'docker-watcher.yml'), 'utf8');
const planEnv = { NPM_PASSWORD: 'npm-password-0123', GITEA_TOKEN: 'gitea-token-0123456789' };
const lines = (problems: readonly ConfigProblem[]) =>
  problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message));

describe('DOCKER_WATCHER_* variables for the server’s own settings', () => {
  it('win over the file: listen, store, log level, poll interval', async () => {
    const text = planText.replace(
      'global:',
      'global:\n  store: sqlite:./file.db\n  poll_interval_seconds: 30\n  server: { listen: 0.0.0.0:8080, log_level: info }',
    );
    const report = await inspectConfigText(
      text,
      {
        ...planEnv,
        DOCKER_WATCHER_LISTEN: '127.0.0.1:9191',
        DOCKER_WATCHER_STORE: 'memory:',
        DOCKER_WATCHER_LOG_LEVEL: 'debug',
        DOCKER_WATCHER_POLL_INTERVAL: '300',
      },
      { baseDir: planDir },
    );
    expect(report.problems).toEqual([]);
    const config = report.config!;
    expect(config.listen).toEqual({ host: '127.0.0.1', port: 9191 });
    expect(config.store.type).toBe('memory');
    expect(config.logLevel).toBe('debug');
    expect(config.pollIntervalMs).toBe(300_000);
  });

  it('load the store adapter a store_env or store_file names (adapters load only when named)', async () => {
    const text = planText.replace('global:', 'global:\n  store_env: STORE_URL');
    const report = await inspectConfigText(
      text,
      { ...planEnv, STORE_URL: 'postgres://watcher@db.example.com:5432/watcher' },
      { baseDir: planDir },
    );
    expect(report.problems).toEqual([]);
    expect(report.config!.store).toMatchObject({
      type: 'postgres',
      definition: { name: 'postgres' },
      options: { url: 'postgres://watcher@db.example.com:5432/watcher' },
    });
  });

  it('apply without any of those keys in the file, and replace a store read from the environment', async () => {
    const text = planText.replace('global:', 'global:\n  store_env: STORE_URL');
    const report = await inspectConfigText(
      text,
      { ...planEnv, DOCKER_WATCHER_STORE: 'memory:', DOCKER_WATCHER_LISTEN: '[::1]:8081' },
      { baseDir: planDir },
    );
    expect(report.problems).toEqual([]);
    expect(report.config!.store.type).toBe('memory');
    expect(report.config!.listen).toEqual({ host: '::1', port: 8081 });
  });

  it('are checked like the file, and problems name the variable', async () => {
    const report = await inspectConfigText(
      planText,
      {
        ...planEnv,
        DOCKER_WATCHER_LISTEN: 'everywhere',
        DOCKER_WATCHER_STORE: 'mysql://db',
        DOCKER_WATCHER_LOG_LEVEL: 'loud',
        DOCKER_WATCHER_POLL_INTERVAL: 'hourly',
      },
      { baseDir: planDir },
    );
    expect(lines(report.problems)).toEqual([
      'DOCKER_WATCHER_STORE: must be sqlite:<file>, a postgres:// URL or memory:',
      'DOCKER_WATCHER_POLL_INTERVAL: must be a number, not the text "hourly"',
      'DOCKER_WATCHER_LISTEN: must be host:port, e.g. 0.0.0.0:8080',
      'DOCKER_WATCHER_LOG_LEVEL: must be one of debug, info, warn, error, not the text "loud"',
    ]);
  });

  it('are documented in the reference', async () => {
    const reference = await configReferenceText();
    for (const variable of [
      'DOCKER_WATCHER_LISTEN',
      'DOCKER_WATCHER_STORE',
      'DOCKER_WATCHER_LOG_LEVEL',
      'DOCKER_WATCHER_POLL_INTERVAL',
    ])
      expect(reference).toContain(`| \`${variable}\` |`);
  });
});
