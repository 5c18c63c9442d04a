import { defaultCaddyBinary } from './caddy.ts';
import { ensureChromium } from './chromium.ts';
import { ensureDebianPackage } from './debian-packages.ts';
import { dockerClient, removeTestkitResources } from './docker-client.ts';
import { ensureDockerEngine } from './docker-engine.ts';
import { buildFixtureImages } from './fixture-images.ts';
import { removePrivateEngines } from './private-engine.ts';
import { isTestkitError } from './testkit-error.ts';

/**
 * Vitest global setup: a Docker Engine that answers, fixture images built (or found in the cache),
 * and nothing left over from an earlier run. Tests of real parts never skip: without an engine the
 * whole run fails here, with a message that says what to do.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const started = performance.now();
  let engine: Awaited<ReturnType<typeof ensureDockerEngine>> | undefined;
  try {
    engine = await ensureDockerEngine();
    const docker = dockerClient();
    // Workers inherit this: everything they create is labelled as this run's.
    process.env.DW_TESTKIT_RUN = String(process.pid);
    const leftovers =
      (await removeTestkitResources(docker, 'orphans')) + (await removePrivateEngines('orphans'));
    const engineMs = performance.now() - started;
    const built = await buildFixtureImages(docker);
    // Installed here, once, rather than by test files racing each other for dpkg's lock.
    await ensureDebianPackage('caddy', defaultCaddyBinary);
    await ensureChromium();
    const total = performance.now() - started;
    process.stdout.write(
      `testkit: engine ${engine.startedByUs ? 'started' : 'reused'} in ${Math.round(engineMs)} ms; ` +
        `fixture images ${built.length ? `built: ${built.join(', ')}` : 'all cached'}; ` +
        `${leftovers ? `${leftovers} leftovers removed; ` : ''}setup ${Math.round(total)} ms\n`,
    );
  } catch (error) {
    await engine?.stop();
    if (isTestkitError(error)) {
      process.stderr.write(`\ntestkit: ${error.message}\n\n`);
    }
    throw error;
  }
  return async () => {
    await removeTestkitResources(dockerClient()).catch(() => undefined);
    await removePrivateEngines().catch(() => undefined);
    await engine?.stop();
  };
}
