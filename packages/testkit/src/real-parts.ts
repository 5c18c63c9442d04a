// The real parts of a test run (a Docker Engine, the fixture images, Caddy's and nginx's packages) are made
// ready once per run, on the first request, by vitest's main process (the global setup's broker):
// a test file that never imports the testkit never waits for them, and one that does waits here.
import { request } from 'node:http';
import { defaultCaddyBinary } from './caddy.ts';
import { ensureChromium } from './chromium.ts';
import { ensureDebianPackage } from './debian-packages.ts';
import { dockerClient, removeTestkitResources } from './docker-client.ts';
import { type DockerEngine, ensureDockerEngine } from './docker-engine.ts';
import { buildFixtureImages } from './fixture-images.ts';
import { imageReferences } from './machine-state.ts';
import { defaultNginxBinary } from './nginx.ts';
import { removePrivateEngines } from './private-engine.ts';
import { runEnv } from './test-run.ts';

export interface RealParts {
  readonly engine: DockerEngine;
  /** The engine's image references before the run touched it. */
  readonly imagesBefore: readonly string[];
  /** One line for the run's log: what was started, built and removed, and how long it took. */
  readonly summary: string;
}

/**
 * The engine (started, and Debian's docker.io installed, when none answers), the leftovers of runs
 * that ended removed, the fixture images built when their content changed, and Caddy, nginx and Chromium
 * installed (once here, rather than by test files racing each other for dpkg's lock).
 */
export async function ensureRealParts(): Promise<RealParts> {
  const started = performance.now();
  const engine = await ensureDockerEngine();
  try {
    const docker = dockerClient();
    const imagesBefore = await imageReferences(docker);
    const leftovers =
      (await removeTestkitResources(docker, 'orphans')) + (await removePrivateEngines('orphans'));
    const engineMs = performance.now() - started;
    const built = await buildFixtureImages(docker);
    await ensureDebianPackage('caddy', defaultCaddyBinary);
    await ensureDebianPackage('nginx', defaultNginxBinary);
    await ensureChromium();
    const summary =
      `testkit: engine ${engine.startedByUs ? 'started' : 'reused'} in ${Math.round(engineMs)} ms; ` +
      `fixture images ${built.length ? `built: ${built.join(', ')}` : 'all cached'}; ` +
      `${leftovers ? `${leftovers} leftovers removed; ` : ''}real parts ready in ${Math.round(performance.now() - started)} ms`;
    return { engine, imagesBefore, summary };
  } catch (error) {
    await engine.stop();
    throw error;
  }
}

let ready: Promise<void> | undefined;

/**
 * Resolves once the run's real parts are ready, asking the run's broker the first time. Outside a
 * vitest run of this workspace (a script, the demo) there is no broker: callers make sure of what
 * they need themselves (`ensureDockerEngine`, `buildFixtureImages`).
 */
export function realPartsReady(): Promise<void> {
  const socketPath = process.env[runEnv.broker];
  if (!socketPath) return Promise.resolve();
  ready ??= new Promise<void>((resolve, reject) => {
    const req = request({ socketPath, path: '/real-parts', method: 'POST' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => {
        if (res.statusCode === 200) return resolve();
        // The broker's answer is the TestkitError's message: what is wrong and what to do.
        const error = new Error(body || `the test run's broker answered ${res.statusCode}`);
        error.name = 'TestkitError';
        reject(error);
      });
    });
    req.on('error', (error) =>
      reject(new Error(`The test run's broker at ${socketPath} did not answer: ${error.message}`)),
    );
    req.end();
  });
  return ready;
}
