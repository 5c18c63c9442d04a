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
    for (const instance of listed) await after.stop({ instance });
    expect(await after.list({ project })).toEqual([]);
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
