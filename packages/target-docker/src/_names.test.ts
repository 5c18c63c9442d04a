import { describe, expect, it } from 'vitest';
import {
  alternateContainerName,
  containerLabels,
  containerName,
  managedFilters,
  markerRepository,
  markerTag,
  nameComponent,
  ownedBy,
  parseMarkerTag,
  sanitize,
} from './_names.ts';

const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
const spec = {
  project: 'web-app',
  stage: 'dev',
  deployId: 'd-42',
  image: 'registry.example/team/web-app',
  release: { tag: 'v1.2.3', digest },
};

describe('container names', () => {
  it('are dw-{project}-{stage}-{tag}-{short digest}', () => {
    expect(containerName(spec)).toBe('dw-web-app-dev-v1.2.3-0123456789ab');
  });

  it('change when a tag is pushed again with another digest', () => {
    const repushed = { ...spec, release: { tag: 'v1.2.3', digest: `sha256:${'f'.repeat(64)}` } };
    expect(containerName(repushed)).not.toBe(containerName(spec));
  });

  it('are valid Docker names whatever the project, stage and tag', () => {
    const odd = {
      ...spec,
      project: 'Web App/ÄÖ',
      stage: '--prod--',
      release: { tag: '__Weird Tag!!', digest },
    };
    expect(containerName(odd)).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
    expect(containerName(odd)).toBe('dw-web-app-prod-weird-tag-0123456789ab');
    const long = { ...spec, project: 'p'.repeat(200), release: { tag: 't'.repeat(200), digest } };
    expect(containerName(long).length).toBeLessThanOrEqual(120);
  });

  it('have a deterministic alternate per deploy for a second deploy of one release', () => {
    expect(alternateContainerName(spec)).toMatch(/^dw-web-app-dev-v1\.2\.3-0123456789ab-[0-9a-f]{8}$/);
    expect(alternateContainerName(spec)).toBe(alternateContainerName({ ...spec }));
    expect(alternateContainerName({ ...spec, deployId: 'd-43' })).not.toBe(alternateContainerName(spec));
  });

  it('sanitize never returns an empty name part', () => {
    expect(sanitize('***', 10)).toBe('x');
    expect(nameComponent('..')).toBe('x');
  });
});

describe('labels', () => {
  it('carry project, stage, release, digest, deploy id, image and port; extra labels cannot override them', () => {
    const labels = containerLabels(spec, 8080, { team: 'web', 'docker-watcher.project': 'forged' });
    expect(labels).toEqual({
      team: 'web',
      'docker-watcher.managed': 'true',
      'docker-watcher.project': 'web-app',
      'docker-watcher.stage': 'dev',
      'docker-watcher.release': 'v1.2.3',
      'docker-watcher.digest': digest,
      'docker-watcher.deploy-id': 'd-42',
      'docker-watcher.image': 'registry.example/team/web-app',
      'docker-watcher.port': '8080',
    });
    expect(containerLabels(spec, undefined)).not.toHaveProperty('docker-watcher.port');
  });

  it('filter managed containers by project, stage and deploy', () => {
    expect(managedFilters({})).toEqual(['docker-watcher.managed=true']);
    expect(managedFilters({ project: 'a', stage: 'b', deployId: 'c' })).toEqual([
      'docker-watcher.managed=true',
      'docker-watcher.project=a',
      'docker-watcher.stage=b',
      'docker-watcher.deploy-id=c',
    ]);
  });
});

describe('pull markers', () => {
  it('are a valid local repository and tag that sort by pull time', () => {
    expect(markerRepository('Web.App', 'dev')).toBe('docker-watcher-pulled/web-app/dev');
    const early = markerTag(spec.release, 1_700_000_000_000);
    const late = markerTag(spec.release, 1_800_000_000_000);
    expect(early).toMatch(/^[\w][\w.-]{0,127}$/);
    expect([late, early].sort()).toEqual([early, late]);
    expect(parseMarkerTag(early)).toEqual({ pulledAt: 1_700_000_000_000 });
    expect(parseMarkerTag('latest')).toBeUndefined();
  });
});

describe('ownedBy', () => {
  const of = (instance?: string): Record<string, string> =>
    instance === undefined ? {} : { 'docker-watcher.instance': instance };
  it("keeps a target with an instance to its own containers and those from before the label, not another's", () => {
    expect(ownedBy(of('a'), 'a')).toBe(true);
    expect(ownedBy(of(), 'a')).toBe(true);
    expect(ownedBy(undefined, 'a')).toBe(true);
    expect(ownedBy(of('b'), 'a')).toBe(false);
  });
  it('lets a target without an instance see every managed container, as before', () => {
    expect(ownedBy(of('b'), undefined)).toBe(true);
    expect(ownedBy(of(), undefined)).toBe(true);
  });
  it('writes the instance label only when the target has one, and never lets an extra label forge it', () => {
    const spec = {
      project: 'p',
      stage: 'dev',
      deployId: 'd',
      image: 'registry.test/app',
      release: { tag: 'v1', digest: `sha256:${'a'.repeat(64)}` },
    };
    expect(containerLabels(spec, 80, { 'docker-watcher.instance': 'forged' }, 'a')).toMatchObject(of('a'));
    expect(containerLabels(spec, 80)).not.toHaveProperty('docker-watcher.instance');
  });
});
