import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appFixture,
  buildFixtureImage,
  dockerClient,
  imageReferences,
  removeRunImages,
  runCommand,
} from '../src/index.ts';

const src = join(import.meta.dirname, '../src');

describe('removeRunImages', () => {
  // An owner no process has: nothing of this run or another is labelled with it.
  const owner = 2_000_000_000 + Math.floor(Math.random() * 1_000_000);
  const host = `127.0.0.1:${40_000 + Math.floor(Math.random() * 20_000)}`;

  it("removes the run's pulled references and builds, never the cache or what was there before", async () => {
    const docker = dockerClient();
    const v1 = appFixture('v1').ref;
    const kept = `${host}/before/app:kept`;
    await docker.getImage(v1).tag({ repo: `${host}/before/app`, tag: 'kept' });
    const before = await imageReferences(docker);
    await docker.getImage(v1).tag({ repo: `${host}/team/app`, tag: 'pulled' });
    // An ad-hoc build (not one of the cached fixtures) is labelled with the run that made it.
    process.env.DW_TESTKIT_RUN_SAVED = process.env.DW_TESTKIT_RUN;
    process.env.DW_TESTKIT_RUN = String(owner);
    try {
      await buildFixtureImage(docker, {
        ref: `dw-testkit/app:machine-check-${owner}`,
        dockerfile: `FROM ${v1}\nLABEL docker-watcher.machine-check="${owner}"\n`,
        files: {},
      });
    } finally {
      process.env.DW_TESTKIT_RUN = process.env.DW_TESTKIT_RUN_SAVED;
      delete process.env.DW_TESTKIT_RUN_SAVED;
    }
    try {
      const result = await removeRunImages(docker, {
        before,
        registryHosts: [host],
        owner,
        sharedWithOtherRuns: true,
      });
      expect(result.left).toEqual([]);
      const after = await imageReferences(docker);
      expect(after).not.toContain(`${host}/team/app:pulled`);
      expect(after).not.toContain(`dw-testkit/app:machine-check-${owner}`);
      expect(after).toContain(v1);
      expect(after).toContain(kept);
    } finally {
      await docker
        .getImage(kept)
        .remove()
        .catch(() => undefined);
    }
  });
});

/** The environment of a vitest run of its own: not a worker of this one, nor of this run. */
function separateRunEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of Object.keys(env))
    if (name.startsWith('VITEST') || name === 'TEST' || name.startsWith('DW_TESTKIT_')) delete env[name];
  return env;
}

describe('a test run that takes a network device from the host', () => {
  let dir: string;
  const link = `dwlost${process.pid % 100_000}`;
  const tag = `127.0.0.1:9/machine-check/app:left-${process.pid}`;
  let run: ReturnType<typeof spawnSync>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dw-machine-check-'));
    const added = await runCommand('ip', ['link', 'add', link, 'type', 'bridge']);
    expect(added.code, added.stderr).toBe(0);
    writeFileSync(
      join(dir, 'vitest.config.mjs'),
      `export default { test: { globals: true, globalSetup: [${JSON.stringify(join(src, 'global-setup.ts'))}] } };\n`,
    );
    writeFileSync(
      join(dir, 'takes.test.js'),
      `import { execFileSync } from 'node:child_process';
import { appFixture, dockerClient, recordRegistryHost } from ${JSON.stringify(join(src, 'index.ts'))};
it('leaves an image reference of its registry and deletes a device', async () => {
  recordRegistryHost('127.0.0.1:9');
  const [repo, tag] = ${JSON.stringify(tag)}.split(/:(?=[^:]+$)/);
  await dockerClient().getImage(appFixture('v1').ref).tag({ repo, tag });
  execFileSync('ip', ['link', 'delete', ${JSON.stringify(link)}]);
});
`,
    );
    run = spawnSync(
      process.execPath,
      [join(import.meta.dirname, '../../../node_modules/vitest/vitest.mjs'), 'run'],
      {
        cwd: dir,
        encoding: 'utf8',
        timeout: 180_000,
        env: separateRunEnv({}),
      },
    );
  }, 240_000);
  afterAll(async () => {
    await runCommand('ip', ['link', 'delete', link]);
    await dockerClient()
      .getImage(tag)
      .remove()
      .catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails, and says which device the host lost', () => {
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status, output).toBe(1);
    expect(output).toContain('testkit: the test run did not leave the machine as it found it:');
    expect(output).toContain(`the host lost its network device ${link}`);
  });

  it('removed the image reference named after its registry, and kept the fixture cache', async () => {
    const references = await imageReferences(dockerClient());
    expect(references).not.toContain(tag);
    expect(references).toContain(appFixture('v1').ref);
  });
});
