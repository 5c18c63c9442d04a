import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCommand } from './command.ts';
import { dockerClient, removeTestkitResources } from './docker-client.ts';
import { removeRunImages } from './image-cleanup.ts';
import { type HostState, hostDifferences, hostState } from './machine-state.ts';
import { removePrivateEngines } from './private-engine.ts';
import { ensureRealParts, type RealParts } from './real-parts.ts';
import {
  otherLiveRuns,
  recordedRegistryHosts,
  removeStaleRunDirs,
  runDirPrefix,
  runEnv,
} from './test-run.ts';

/**
 * Vitest global setup of every project whose tests use real parts. It is cheap: it notes the state
 * of the machine and opens the run's broker; the engine and fixture images are made ready when the
 * first test file imports the testkit (`real-parts.ts`), so a run of unit tests never waits for them.
 * At the end it removes what the run made (containers, networks, private engines, image references;
 * the fixture images stay as a cache), stops an engine it started, and fails the run when the host's
 * network devices, the engine or its images are not as they were before.
 */
export default async function setup(): Promise<() => Promise<void>> {
  // Every project calls this; one run per process serves them all, torn down by the last one.
  const holder = globalThis as { [runKey]?: Promise<TestRun> };
  holder[runKey] ??= startRun();
  const run = await holder[runKey];
  run.users += 1;
  return async () => {
    run.users -= 1;
    if (run.users === 0) {
      delete holder[runKey];
      await run.end();
    }
  };
}

const runKey = Symbol.for('docker-watcher.testkit.run');

interface TestRun {
  users: number;
  end(): Promise<void>;
}

async function startRun(): Promise<TestRun> {
  const owner = process.pid;
  removeStaleRunDirs(tmpdir());
  const dir = mkdtempSync(join(tmpdir(), `${runDirPrefix}${owner}-`));
  const hostBefore = await hostState();
  const othersSeen = new Set(otherLiveRuns(owner, tmpdir()));
  // Runs side by side leave each other's resources alone; a run seen at any time counts.
  const sampler = setInterval(() => {
    for (const other of otherLiveRuns(owner, tmpdir())) othersSeen.add(other);
  }, 2_000).unref();
  let parts: Promise<RealParts> | undefined;
  const broker = await listen(join(dir, 'broker.sock'), () => {
    parts ??= ensureRealParts().then((ready) => {
      process.stdout.write(`${ready.summary}\n`);
      return ready;
    });
    return parts;
  });
  // Workers inherit these: what they create is labelled as this run's, and they ask this broker.
  process.env[runEnv.owner] = String(owner);
  process.env[runEnv.dir] = dir;
  process.env[runEnv.broker] = join(dir, 'broker.sock');

  return {
    users: 0,
    end: async () => {
      clearInterval(sampler);
      for (const other of otherLiveRuns(owner, tmpdir())) othersSeen.add(other);
      await new Promise((resolve) => broker.close(resolve));
      const problems = await cleanUp(await parts?.catch(() => undefined), {
        owner,
        dir,
        hostBefore,
        shared: othersSeen.size > 0,
      });
      rmSync(dir, { recursive: true, force: true });
      if (problems.length > 0) {
        throw new Error(
          `testkit: the test run did not leave the machine as it found it:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
        );
      }
    },
  };
}

/** Removes what the run made and says what is still not as it was. */
async function cleanUp(
  parts: RealParts | undefined,
  run: { owner: number; dir: string; hostBefore: HostState; shared: boolean },
): Promise<string[]> {
  const problems: string[] = [];
  if (parts) {
    const docker = dockerClient();
    await removeTestkitResources(docker, run.owner).catch(() => undefined);
    await removePrivateEngines(run.owner).catch(() => undefined);
    const images = await removeRunImages(docker, {
      before: parts.imagesBefore,
      registryHosts: recordedRegistryHosts(run.dir),
      owner: run.owner,
      sharedWithOtherRuns: run.shared,
    }).catch((error: Error) => ({ removed: 0, left: [`(listing the images failed: ${error.message})`] }));
    problems.push(
      ...images.left.map((reference) => `an image reference was left on the engine: ${reference}`),
    );
    process.stdout.write(
      `testkit: removed ${images.removed} image references the run made` +
        `${run.shared ? " (other test runs used the engine meanwhile: only those provably this run's)" : ''}\n`,
    );
    await parts.engine.stop();
    // A dockerd we started made its default bridge; with the engine gone again, so is the bridge.
    if (parts.engine.startedByUs && !run.hostBefore.links.includes('docker0'))
      await runCommand('ip', ['link', 'delete', 'docker0']);
  }
  problems.push(...hostDifferences(run.hostBefore, await hostState(), run.shared));
  return problems;
}

/** The broker: one request, `POST /real-parts`, answered once the real parts are ready. */
function listen(socketPath: string, ready: () => Promise<unknown>): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || req.url !== '/real-parts') {
      res.writeHead(404).end();
      return;
    }
    ready().then(
      () => res.writeHead(200).end(),
      (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(error.message),
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve(server));
  });
}
