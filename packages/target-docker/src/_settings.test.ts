import { parseOptions } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { fixedHostPort, legacyStageSettings, parseMemory, stageSettings } from './_settings.ts';
import { type DockerTargetOptions, dockerTargetOptions } from './options.ts';

const resolve = (input: DockerTargetOptions) => parseOptions(dockerTargetOptions, input);
/** A stage's settings as the target reads them: the deprecated `stages` already read into its own options. */
const settingsOf = (
  options: ReturnType<typeof resolve>,
  project: string,
  stage: string,
  own?: Parameters<typeof stageSettings>[1],
) => stageSettings(options, legacyStageSettings(options, { project, stage }, own));

describe('stage settings', () => {
  it('default to unless-stopped, no limits, not published', () => {
    expect(settingsOf(resolve({}), 'web', 'dev')).toEqual({
      env: {},
      envFiles: [],
      volumes: [],
      restartPolicy: 'unless-stopped',
      labels: {},
      publish: false,
    });
  });

  it('merge target, the deprecated stage and project/stage: env and labels by key, the rest replaced', () => {
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
    expect(settingsOf(options, 'web', 'prod')).toMatchObject({
      env: { A: 'target', B: 'prod', C: 'web-prod' },
      labels: { team: 'web', tier: 'edge' },
      volumes: ['prod-data:/data'],
      memory: 512 * 1024 * 1024,
      cpus: 2,
    });
    expect(settingsOf(options, 'api', 'prod')).toMatchObject({
      env: { A: 'target', B: 'prod' },
      memory: 1024 ** 3,
    });
    expect(settingsOf(options, 'web', 'dev')).toMatchObject({ volumes: ['data:/data'] });
  });

  it("take the stage's own options (stageOptions) over every other level", () => {
    const options = resolve({
      env: { A: 'target', B: 'target' },
      publish: true,
      stages: { 'web/prod': { env: { B: 'web-prod' }, cpus: 2 } },
    });
    expect(settingsOf(options, 'web', 'prod', { env: { C: 'own' }, publish: 8080, cpus: 1 })).toMatchObject({
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

  it('read no stage options from a target without the deprecated stages', () => {
    expect(legacyStageSettings(resolve({ env: { A: 'target' } }), { project: 'web', stage: 'dev' })).toBe(
      undefined,
    );
  });

  it('rule out side by side where a fixed host port is published', () => {
    expect(fixedHostPort(resolve({ publish: true }))).toBe(undefined);
    expect(fixedHostPort(resolve({ publish: 8080 }))).toBe('publishes the fixed host port 8080');
    expect(fixedHostPort({ publish: 80 })).toBe('publishes the fixed host port 80');
  });
});
