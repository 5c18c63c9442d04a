// The same program against real parts: a local OCI registry, the Docker Engine, and Caddy.
import { get } from 'node:http';

import { createCaddyProxy } from '@docker-watcher/proxy-caddy';
import { createOciRegistry } from '@docker-watcher/registry-oci';
import { createDockerTarget } from '@docker-watcher/target-docker';
import {
  appFixture,
  type CaddyInstance,
  dockerClient,
  type LocalRegistry,
  pushImage,
  startCaddy,
  startRegistry,
} from '@docker-watcher/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { watchAndDeploy } from '../src/watch-and-deploy.ts';

let registry: LocalRegistry;
let caddy: CaddyInstance;
const network = `dw-example-${process.pid}`;
const target = createDockerTarget({
  publish: true,
  network,
  stopTimeoutSeconds: 1,
});

beforeAll(async () => {
  [registry, caddy] = await Promise.all([startRegistry(), startCaddy()]);
});

afterAll(async () => {
  for (const instance of await target.list({ project: 'web-app' })) await target.retire({ instance });
  await target.dispose();
  // The target made the network when it first deployed; nothing of this test stays on the engine.
  await dockerClient()
    .getNetwork(network)
    .remove()
    .catch(() => undefined);
  await Promise.all([registry?.stop(), caddy?.stop()]);
});

/** GET /version through Caddy as `app.example.com` (fetch may not set Host, so plain node:http). */
function served(): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers = { host: 'app.example.com' };
    const request = get(
      { host: '127.0.0.1', port: caddy.httpPort, path: '/version', headers },
      (response) => {
        let body = '';
        response.on('data', (chunk) => {
          body += chunk;
        });
        response.on('end', () => resolve(`${response.statusCode} ${body.trim()}`));
      },
    );
    request.on('error', reject);
  });
}

it('deploys each new release by digest on Docker behind Caddy, and keeps serving through a broken one', async () => {
  const push = (release: 'v1' | 'v2' | 'unhealthy', tag: string) =>
    pushImage(registry, { source: appFixture(release).ref, repository: 'team/web-app', tag });
  await push('v1', 'v1.0.0');
  const engine = await watchAndDeploy({
    registry: createOciRegistry({ url: registry.url }),
    target,
    proxy: createCaddyProxy({ adminUrl: caddy.adminUrl, server: caddy.serverName, tls: 'off' }),
    image: `${registry.host}/team/web-app`,
  });
  try {
    await engine.idle();
    expect(await served()).toBe('200 v1');

    const v2 = await push('v2', 'v1.1.0');
    await engine.pollOnce();
    await engine.idle();
    expect(await served()).toBe('200 v2');
    const running = await target.list({ project: 'web-app' });
    expect(running.map((instance) => instance.release.digest)).toEqual([v2.digest]);

    await push('unhealthy', 'v1.2.0');
    await engine.pollOnce();
    await engine.idle();
    expect(await served()).toBe('200 v2');
    expect((await engine.plan())[0]?.decision.reason).toMatch(/failed here before/);
  } finally {
    await engine.stop();
  }
}, 120_000);
