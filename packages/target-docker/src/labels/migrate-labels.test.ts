import { describe, expect, it } from 'vitest';
import { migrateLabels } from './migrate-labels.ts';
import { parseContainerLabels } from './parse-labels.ts';

describe('migrateLabels', () => {
  it('has nothing to say for a container without Watchtower or What’s Up Docker labels', () => {
    expect(
      migrateLabels({ 'docker-watcher.enable': 'true', 'com.docker.compose.service': 'web' }),
    ).toBeUndefined();
  });

  it('maps Watchtower’s enable and monitor-only', () => {
    expect(
      migrateLabels({
        'com.centurylinklabs.watchtower.enable': 'true',
        'com.centurylinklabs.watchtower.monitor-only': 'true',
        'com.centurylinklabs.watchtower.depends-on': 'db',
      }),
    ).toEqual({
      labels: { 'docker-watcher.enable': 'true', 'docker-watcher.auto-deploy': 'false' },
      notes: ['com.centurylinklabs.watchtower.depends-on: no native equivalent; left out'],
    });
  });

  it('maps What’s Up Docker’s watch, tag include/exclude and digest labels', () => {
    expect(
      migrateLabels({ 'wud.watch': 'true', 'wud.tag.include': '^\\d+\\.\\d+$', 'wud.tag.exclude': 'rc' }),
    ).toEqual({
      labels: {
        'docker-watcher.enable': 'true',
        'docker-watcher.semver': '*',
        'docker-watcher.tag.include': '^\\d+\\.\\d+$',
        'docker-watcher.tag.exclude': 'rc',
      },
      notes: [],
    });
    expect(
      migrateLabels({ 'wud.watch': 'true', 'wud.watch.digest': 'true', 'wud.tag.transform': 'x' }),
    ).toEqual({
      labels: { 'docker-watcher.enable': 'true' },
      notes: [
        "wud.watch.digest: watching the running tag's digest is the default",
        'wud.tag.transform: no native equivalent; left out',
      ],
    });
  });

  it('prints what label mode reads the foreign labels as', () => {
    const foreign = { 'wud.watch': 'true', 'wud.tag.include': '^\\d+\\.\\d+\\.\\d+$' };
    const native = migrateLabels(foreign)!.labels;
    const read = (labels: Record<string, string>) =>
      parseContainerLabels({ id: 'c', name: 'web', image: 'app:1.2.3', labels });
    const fromForeign = read(foreign);
    const fromNative = read(native);
    expect(fromForeign.kind === 'stage' && fromNative.kind === 'stage').toBe(true);
    if (fromForeign.kind === 'stage' && fromNative.kind === 'stage')
      expect(fromNative.stage.policy).toEqual(fromForeign.stage.policy);
  });
});
