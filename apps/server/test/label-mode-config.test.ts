import { describe, expect, it } from 'vitest';
import { inspectConfigText } from '../src/config/load.ts';

const config = (target: string, labelMode: string) => `global:
  store: "memory:"
  target: ${target}
  label_mode: ${labelMode}
registries: {}
projects: {}
`;

describe('global.label_mode', () => {
  it('resolves to the settings label mode runs with', async () => {
    const report = await inspectConfigText(
      config(
        '{ type: docker }',
        '{ enabled: true, scope: blue, resync_seconds: 5, insecure_registries: [registry.lan:5000] }',
      ),
      {},
    );
    expect(report.problems).toEqual([]);
    expect(report.config?.labelMode).toEqual({
      watchAll: false,
      scope: 'blue',
      resyncMs: 5_000,
      insecureRegistries: ['registry.lan:5000'],
      keepPreviousImage: 600_000,
    });
  });

  it('keeps the previous image for keep_previous_image seconds, or for good', async () => {
    const keep = async (value: string) =>
      (
        await inspectConfigText(
          config('{ type: docker }', `{ enabled: true, keep_previous_image: ${value} }`),
          {},
        )
      ).config?.labelMode?.keepPreviousImage;
    expect(await keep('0')).toBe(0);
    expect(await keep('120')).toBe(120_000);
    expect(await keep('false')).toBe('never');
    expect(await keep('never')).toBe('never');
    const bad = await inspectConfigText(
      config('{ type: docker }', '{ enabled: true, keep_previous_image: "10m" }'),
      {},
    );
    expect(bad.problems).toMatchObject([
      {
        path: 'global.label_mode.keep_previous_image',
        message: expect.stringContaining('not the text "10m"'),
      },
    ]);
  });

  it('is off unless enabled', async () => {
    const report = await inspectConfigText(config('{ type: docker }', '{ watch_all: true }'), {});
    expect(report.problems).toEqual([]);
    expect(report.config?.labelMode).toBeUndefined();
  });

  it('names the bad field: a target other than docker, a bad scope or host', async () => {
    const paths = async (target: string, labelMode: string) =>
      (await inspectConfigText(config(target, labelMode), {})).problems.map((p) => p.path);
    expect(await paths('{ type: memory }', '{ enabled: true }')).toEqual(['global.label_mode.enabled']);
    expect(await paths('{ type: docker }', '{ enabled: true, scope: "a b" }')).toEqual([
      'global.label_mode.scope',
    ]);
    expect(await paths('{ type: docker }', '{ enabled: true, insecure_registries: ["http://x"] }')).toEqual([
      'global.label_mode.insecure_registries.0',
    ]);
  });
});
