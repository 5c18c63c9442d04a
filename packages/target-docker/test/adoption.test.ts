import { randomUUID } from 'node:crypto';
import { pushSyntheticTags } from '@docker-watcher/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { markerRepository } from '../src/_names.ts';
import { type FixtureRegistry, startFixtureRegistry, testProject, testRun } from './support/fixtures.ts';

// After a restart of the server, a fresh target finds what an earlier one started (from labels
// only), and prune removes what the target pulled for releases no longer kept.
const run = testRun('adoption');
let fixtures: FixtureRegistry;

beforeAll(async () => {
  fixtures = await startFixtureRegistry({ tags: ['v1', 'v2'] });
});
afterEach(() => run.cleanup());
afterAll(async () => {
  await run.cleanup();
  await run.removeImages(fixtures.image);
  await fixtures?.registry.stop();
});

describe('adoption after a restart', () => {
  it('a new target lists what an old one started, with releases, deploy ids and endpoints', async () => {
    const project = testProject(run, 'adopt');
    const before = run.target();
    const dev = await before.start({
      spec: {
        project,
        stage: 'dev',
        deployId: 'deploy-7',
        image: fixtures.image,
        release: fixtures.releases.v2,
      },
    });
    const rel = await before.start({
      spec: {
        project,
        stage: 'rel',
        deployId: 'deploy-3',
        image: fixtures.image,
        release: fixtures.releases.v1,
      },
    });
    await before.docker.getContainer(rel.id).stop({ t: 1 });
    await before.dispose();

    const after = run.target();
    // Created times have whole seconds: both may share one.
    const listed = (await after.list({ project })).sort((a, b) => a.stage.localeCompare(b.stage));
    expect(listed).toEqual([
      { ...dev, state: 'running' },
      {
        id: rel.id,
        project,
        stage: 'rel',
        deployId: 'deploy-3',
        release: fixtures.releases.v1,
        state: 'exited',
      },
    ]);
    for (const instance of listed) await after.retire({ instance });
    expect(await after.list({ project })).toEqual([]);
  });
});

describe('two servers on one engine', () => {
  it('each lists and retires only its own containers; one from before instances were labelled is adopted', async () => {
    const project = testProject(run, 'two');
    const a = run.target({ instance: 'server-a' });
    const b = run.target({ instance: 'server-b' });
    const spec = (deployId: string, release: 'v1' | 'v2') => ({
      project,
      stage: 'dev',
      deployId,
      image: fixtures.image,
      release: fixtures.releases[release],
    });
    // Made by a target of an earlier version, which wrote no instance label.
    const legacy = await run.target().start({ spec: spec('old-1', 'v1') });
    // The same project, stage and release at both: the second gets a name of its own.
    const ofA = await a.start({ spec: spec('a-1', 'v2') });
    const ofB = await b.start({ spec: spec('b-1', 'v2') });
    const inspected = await a.docker.getContainer(ofA.id).inspect();
    expect(inspected.Config.Labels['docker-watcher.instance']).toBe('server-a');

    const ids = async (target: typeof a) =>
      (await target.list({ project, stage: 'dev' })).map((i) => i.deployId).sort();
    expect(await ids(a)).toEqual(['a-1', 'old-1']);
    expect(await ids(b)).toEqual(['b-1', 'old-1']);

    // A deploy at A retires what A lists besides its candidate: B's container keeps running.
    const next = await a.start({ spec: spec('a-2', 'v1') });
    for (const old of await a.list({ project, stage: 'dev' }))
      if (old.id !== next.id) await a.retire({ instance: old });
    expect(await ids(a)).toEqual(['a-2']);
    expect(await b.list({ project, stage: 'dev' })).toEqual([{ ...ofB, state: 'running' }]);
    expect(
      (
        await a.docker
          .getContainer(legacy.id)
          .inspect()
          .catch(() => undefined)
      )?.Id,
    ).toBeUndefined();
  });
});

describe('prune', () => {
  const repository = 'fixtures/app';

  async function pullSynthetic(project: string, tags: string[]) {
    const target = run.target();
    const pushed = [];
    for (const tag of tags) {
      // Own labels, so each release is its own image (one config blob per image id).
      pushed.push(
        ...(await pushSyntheticTags(fixtures.registry, repository, [tag], {
          labels: { release: tag, run: randomUUID() },
        })),
      );
    }
    for (const { tag, digest } of pushed) {
      await target.pull({
        spec: { project, stage: 'dev', deployId: tag, image: fixtures.image, release: { tag, digest } },
      });
    }
    return { target, pushed };
  }

  const markers = async (project: string) =>
    (await run.target().docker.listImages())
      .flatMap((image) => image.RepoTags ?? [])
      .filter((tag) => tag.startsWith(`${markerRepository(project, 'dev')}:`))
      .map((tag) => tag.replace(/^.*:\d{14}-/, ''))
      .sort();

  it('removes the images of all but the newest releases it pulled, per project-stage', async () => {
    const project = testProject(run, 'prune');
    const other = testProject(run, 'prune-other');
    const { target, pushed } = await pullSynthetic(project, ['r1', 'r2', 'r3']);
    await pullSynthetic(other, ['o1']);

    const pruned = await target.prune({ keep: 1, project });
    expect(pruned.map((image) => [image.marker.replace(/^.*:\d{14}-/, ''), image.deleted]).sort()).toEqual([
      [`r1-${pushed[0]!.digest.slice(7, 19)}`, true],
      [`r2-${pushed[1]!.digest.slice(7, 19)}`, true],
    ]);
    expect(await markers(project)).toEqual([`r3-${pushed[2]!.digest.slice(7, 19)}`]);
    await expect(
      target.docker.getImage(`${fixtures.image}@${pushed[0]!.digest}`).inspect(),
    ).rejects.toMatchObject({
      statusCode: 404,
    });
    // Another project's pulls are not touched.
    expect(await markers(other)).toHaveLength(1);
  });

  it('keeps images a container uses and untags images that other tags hold', async () => {
    const project = testProject(run, 'prune-used');
    const target = run.target();
    const spec = (release: typeof fixtures.releases.v1, deployId: string) => ({
      project,
      stage: 'dev',
      deployId,
      image: fixtures.image,
      release,
    });
    await target.pull({ spec: spec(fixtures.releases.v1, 'a') });
    await target.start({ spec: spec(fixtures.releases.v1, 'a') });
    await target.pull({ spec: spec(fixtures.releases.v2, 'b') });
    const pruned = await target.prune({ keep: 0, project, stage: 'dev' });
    // v1 runs: kept. v2 is also `dw-testkit/app:v2`: untagged, not deleted.
    expect(pruned.map((image) => [image.marker.includes('-v2-'), image.deleted])).toEqual([[true, false]]);
    expect(await markers(project)).toEqual([`v1-${fixtures.releases.v1.digest.slice(7, 19)}`]);
  });
});
