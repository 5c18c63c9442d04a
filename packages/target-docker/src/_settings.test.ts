import { parseOptions } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { allowsBlueGreen, parseMemory, stageSettings } from './_settings.ts';
import { type DockerTargetOptions, dockerTargetOptions } from './options.ts';

const resolve = (input: DockerTargetOptions) => parseOptions(dockerTargetOptions, input);

describe('stage settings', () => {
  it('default to unless-stopped, no limits, not published', () => {
    expect(stageSettings(resolve({}), 'web', 'dev')).toEqual({
      env: {},
      envFiles: [],
      volumes: [],
      restartPolicy: 'unless-stopped',
      labels: {},
      publish: false,
    });
  });

  it('merge target, stage and project/stage: env and labels by key, the rest replaced', () => {
    const options = resolve({
      env: { A: 'target', B: 'target' },
      labels: { team: 'web' },
      volumes: ['data:/data'],
      memory: '1g',
      stages: {
        prod: { env: { B: 'prod' }, volumes: ['prod-data:/data'], cpus: 2 },
        'web/prod': { env: { C: 'web-prod' }, labels: { tier: 'edge' }, memory: 512 * 1024 * 1024 },
      },
    });
    expect(stageSettings(options, 'web', 'prod')).toMatchObject({
      env: { A: 'target', B: 'prod', C: 'web-prod' },
      labels: { team: 'web', tier: 'edge' },
      volumes: ['prod-data:/data'],
      memory: 512 * 1024 * 1024,
      cpus: 2,
    });
    expect(stageSettings(options, 'api', 'prod')).toMatchObject({
      env: { A: 'target', B: 'prod' },
      memory: 1024 ** 3,
    });
    expect(stageSettings(options, 'web', 'dev')).toMatchObject({ volumes: ['data:/data'] });
  });

  it("take the stage's own options (stageOptions) over every other level", () => {
    const options = resolve({
      env: { A: 'target', B: 'target' },
      publish: true,
      stages: { 'web/prod': { env: { B: 'web-prod' }, cpus: 2 } },
    });
    expect(
      stageSettings(options, 'web', 'prod', { env: { C: 'own' }, publish: 8080, cpus: 1 }),
    ).toMatchObject({
      env: { A: 'target', B: 'web-prod', C: 'own' },
      publish: 8080,
      cpus: 1,
    });
  });

  it('read memory sizes', () => {
    expect(parseMemory('512m')).toBe(512 * 1024 * 1024);
    expect(parseMemory('1.5G')).toBe(1.5 * 1024 ** 3);
    expect(parseMemory('64k')).toBe(65_536);
    expect(parseMemory('4194304')).toBe(4_194_304);
    expect(parseMemory(8_388_608)).toBe(8_388_608);
    expect(() => parseMemory('lots')).toThrow();
  });

  it('rule out blue-green when any level publishes a fixed host port', () => {
    expect(allowsBlueGreen(resolve({ publish: true }))).toBe(true);
    expect(allowsBlueGreen(resolve({ publish: 8080 }))).toBe(false);
    expect(allowsBlueGreen(resolve({ stages: { prod: { publish: 80 } } }))).toBe(false);
  });
});
