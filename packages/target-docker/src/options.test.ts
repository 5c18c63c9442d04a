import { ConfigError, createMemoryLogger, parseOptions } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { createDockerTarget, dockerTarget } from './docker-target.ts';
import { dockerTargetOptions } from './options.ts';

function problems(input: unknown): string[] {
  try {
    parseOptions(dockerTargetOptions, input, { secrets: dockerTarget.secrets });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('dockerTargetOptions', () => {
  it('applies defaults', () => {
    expect(parseOptions(dockerTargetOptions, {})).toEqual({
      network: 'docker-watcher',
      endpoint: 'address',
      publishHost: '127.0.0.1',
      stopTimeoutSeconds: 5,
      runningGraceMs: 1_000,
    });
  });

  it('describes every top-level option', () => {
    for (const [key, schema] of Object.entries(dockerTargetOptions.entries)) {
      const described = JSON.stringify(schema, (_k, value) =>
        typeof value === 'function' ? undefined : value,
      );
      expect(described, key).toContain('"type":"description"');
    }
  });

  it('rejects bad values with their paths', () => {
    expect(problems({ dockerHost: 'docker.example:2375' })[0]).toMatch(
      /^dockerHost: must be `tcp:\/\/host:port`/,
    );
    expect(problems({ network: 'bad name' })[0]).toMatch(/^network: must be a Docker network name/);
    expect(problems({ memory: '1 potato' })[0]).toMatch(/^memory: /);
    expect(problems({ endpoint: 'ip' })[0]).toMatch(/^endpoint: /);
    expect(problems({ volumes: ['relative:path'] })[0]).toMatch(
      /^volumes\.0: must be `source:\/container\/path`/,
    );
    expect(problems({ labels: { 'docker-watcher.project': 'x' } })[0]).toMatch(
      /^labels\.docker-watcher\.project: is one of the labels the target sets itself/,
    );
    expect(problems({ stages: { 'a/b/c': {} } })[0]).toMatch(
      /^stages\.a\/b\/c: must be `stage` or `project\/stage`/,
    );
    expect(problems({ publish: 70_000 })[0]).toMatch(/^publish: /);
    expect(problems({ tls: { ca: '/etc/ca.pem', cert: '-----BEGIN x', key: '-----BEGIN y' } })[0]).toMatch(
      /^tls\.ca: must be PEM text/,
    );
    expect(problems({ unknown: true })[0]).toMatch(/^unknown: /);
  });

  it('never echoes a password or a key', () => {
    const reported = problems({
      auth: { 'ghcr.io': { username: 'me', password: 4711 } },
      tls: { ca: '-----BEGIN', cert: '-----BEGIN', key: 'not-a-pem-secret' },
    }).join('\n');
    expect(reported).toMatch(/auth\.ghcr\.io\.password: /);
    expect(reported).toMatch(/tls\.key: /);
    expect(reported).not.toContain('4711');
    expect(reported).not.toContain('not-a-pem-secret');
  });

  it('creates a target with a stable id and the blue-green capability unless a fixed port is published', async () => {
    const target = createDockerTarget({}, { instance: 'edge' });
    expect(target.id).toBe('target:docker/edge');
    expect(target.capabilities).toEqual({ blueGreen: true, canary: false });
    expect(createDockerTarget({ publish: 8080 }).capabilities.blueGreen).toBe(false);
    await target.dispose();
    await expect(target.list({})).rejects.toMatchObject({
      code: 'UNAVAILABLE',
      message: 'target:docker/edge is disposed',
    });
  });

  it('rules out side by side per stage: a fixed port in one stage (own options or the deprecated stages) leaves the others blue-green', async () => {
    const logger = createMemoryLogger();
    const target = createDockerTarget(
      { stages: { prod: { publish: 8080 } } },
      { logger, stageOptions: (ref) => (ref.stage === 'rel' ? { publish: 9090 } : undefined) },
    );
    expect(target.capabilities.blueGreen).toBe(true);
    expect(target.notSideBySide?.({ project: 'web', stage: 'prod' })).toBe(
      'publishes the fixed host port 8080',
    );
    expect(target.notSideBySide?.({ project: 'web', stage: 'rel' })).toBe(
      'publishes the fixed host port 9090',
    );
    expect(target.notSideBySide?.({ project: 'web', stage: 'dev' })).toBe(undefined);
    expect(logger.entries.filter((entry) => entry.level === 'warn').map((entry) => entry.message)).toEqual([
      expect.stringMatching(
        /^target:docker option stages is deprecated: .*projects\.<project>\.stages\.<stage>\.target/,
      ),
    ]);
    await target.dispose();
  });
});
