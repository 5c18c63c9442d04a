import { randomUUID } from 'node:crypto';
import { expectCoreError } from '@docker-watcher/core/testing';
import { pushSyntheticTags } from '@docker-watcher/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDockerTarget } from '../src/index.ts';
import { type FixtureRegistry, startFixtureRegistry, testProject, testRun } from './support/fixtures.ts';

// Pulls by digest from real registries that want credentials; what a wrong password turns into.
const run = testRun('pull');

const specOf = (fixtures: FixtureRegistry, what: string) => ({
  project: testProject(run, what),
  stage: 'dev',
  deployId: `${what}-1`,
  image: fixtures.image,
  release: fixtures.releases.v1,
});

afterEach(() => run.cleanup());
afterAll(() => run.cleanup());

// The engine skips the registry for a manifest digest it has pulled before (its content is known),
// so the credential cases pull synthetic images with digests no engine has seen.
for (const auth of ['basic', 'token'] as const) {
  describe(`a registry with ${auth} auth`, () => {
    let fixtures: FixtureRegistry;
    const repository = `private/${auth}`;
    beforeAll(async () => {
      fixtures = await startFixtureRegistry({ auth, tags: ['v1'], repository });
    });
    afterAll(async () => {
      await run.removeImages(fixtures.image);
      await fixtures?.registry.stop();
    });

    const unseen = async (what: string) => {
      const [pushed] = await pushSyntheticTags(fixtures.registry, repository, [what], {
        variant: randomUUID(),
      });
      return { ...specOf(fixtures, `${auth}-${what}`), release: { tag: what, digest: pushed!.digest } };
    };

    it('pulls with the credentials of its host and logs the progress', async () => {
      const { username, password } = fixtures.registry.credentials!;
      const target = run.target({ auth: { [fixtures.registry.host]: { username, password } } });
      const spec = await unseen('ok');
      const lines: string[] = [];
      await target.pull({ spec, onLog: (line) => lines.push(line) });
      expect(lines[0]).toBe(`pulling ${fixtures.image}@${spec.release.digest} as ${username}`);
      expect(lines).toContain(`pull ${fixtures.image}@${spec.release.digest}: Pulling from ${repository}`);
      expect(lines.some((line) => /^pull: Digest: sha256:/.test(line))).toBe(true);
      expect(lines.at(-1)).toMatch(/^pulled .* in \d+ ms$/);
      // Present now: a second pull does not ask the registry again.
      const again: string[] = [];
      await target.pull({ spec, onLog: (line) => again.push(line) });
      expect(again).toEqual([
        `${fixtures.image}@${spec.release.digest.slice(7, 19)} is present, no pull needed`,
      ]);
    });

    it('runs a fixture release pulled with credentials', async () => {
      const { username, password } = fixtures.registry.credentials!;
      const target = run.target({ auth: { [fixtures.registry.host]: { username, password } } });
      const instance = await target.start({ spec: specOf(fixtures, `${auth}-run`) });
      expect(instance.state).toBe('running');
    });

    it('a wrong password: UNAUTHORIZED, and the password appears nowhere', async () => {
      const { username } = fixtures.registry.credentials!;
      const password = 'wrong-Secret-4711';
      const target = run.target({ auth: { [fixtures.registry.host]: { username, password } } });
      const error = await expectCoreError(
        target.pull({ spec: await unseen('wrong') }),
        'UNAUTHORIZED',
        'pull with a wrong password',
      );
      expect(error.message).toContain(`Could not pull ${fixtures.image}@sha256:`);
      expect(error.message).toContain(`as ${username}`);
      expect(error.retryable).toBe(false);
      expect(JSON.stringify(error.toJSON())).not.toContain(password);
    });

    it('no credentials: UNAUTHORIZED, pulled anonymously', async () => {
      const target = run.target();
      const error = await expectCoreError(target.pull({ spec: await unseen('anon') }), 'UNAUTHORIZED');
      expect(error.message).toContain('anonymously');
    });
  });
}

describe('an anonymous registry', () => {
  let fixtures: FixtureRegistry;
  beforeAll(async () => {
    fixtures = await startFixtureRegistry({ tags: ['v1'], repository: 'public/app' });
  });
  afterAll(async () => {
    await run.removeImages(fixtures.image);
    await fixtures?.registry.stop();
  });

  it('an unknown digest: NOT_FOUND', async () => {
    const target = run.target();
    const spec = {
      ...specOf(fixtures, 'unknown'),
      release: { tag: 'v1', digest: `sha256:${'ab'.repeat(32)}` },
    };
    const error = await expectCoreError(target.pull({ spec }), 'NOT_FOUND');
    expect(error.message).toMatch(/manifest unknown/);
    // start pulls what is missing, and fails the same way without creating a container.
    await expectCoreError(target.start({ spec }), 'NOT_FOUND');
    expect(await target.list({ project: spec.project })).toEqual([]);
  });

  it('an unknown repository: NOT_FOUND', async () => {
    const target = run.target();
    const spec = { ...specOf(fixtures, 'repo'), image: `${fixtures.registry.host}/no/such-repo` };
    await expectCoreError(target.pull({ spec }), 'NOT_FOUND');
  });

  it('a registry that does not answer: UNAVAILABLE', async () => {
    const target = run.target();
    const spec = { ...specOf(fixtures, 'down'), image: '127.0.0.1:9/fixtures/app' };
    const error = await expectCoreError(target.pull({ spec }), 'UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/connection refused/);
  });
});

describe('the engine', () => {
  it('unreachable: UNAVAILABLE naming the socket, for every operation', async () => {
    const target = createDockerTarget({ socketPath: '/nonexistent/docker.sock' });
    const error = await expectCoreError(target.list({}), 'UNAVAILABLE');
    expect(error.message).toBe(
      'The Docker Engine at /nonexistent/docker.sock is unreachable during list of containers: its socket does not exist, so the daemon is stopped or restarting (ENOENT)',
    );
    const spec = {
      project: 'p',
      stage: 'dev',
      deployId: 'd1',
      image: 'registry.example/app',
      release: { tag: 'v1', digest: `sha256:${'1'.repeat(64)}` },
    };
    await expectCoreError(target.start({ spec }), 'UNAVAILABLE');
    await expectCoreError(target.pull({ spec }), 'UNAVAILABLE');
    const instance = { ...spec, id: 'abc', state: 'running' } as const;
    await expectCoreError(target.retire({ instance }), 'UNAVAILABLE');
    await expectCoreError(target.revert({ instance }), 'UNAVAILABLE');
    await target.dispose();
  });

  it('a refused TCP engine: UNAVAILABLE', async () => {
    const target = createDockerTarget({ dockerHost: 'tcp://127.0.0.1:9' });
    const error = await expectCoreError(target.list({}), 'UNAVAILABLE');
    expect(error.message).toMatch(/tcp:\/\/127\.0\.0\.1:9 is unreachable .*\(ECONNREFUSED\)$/);
  });
});
