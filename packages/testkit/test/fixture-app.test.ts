import { afterEach, describe, expect, it } from 'vitest';
import { appFixture, appPort, buildFixtureImage, dockerClient, testkitLabels } from '../src/index.ts';

const docker = dockerClient();
const started: string[] = [];

afterEach(async () => {
  await Promise.all(
    started.splice(0).map((id) =>
      docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
});

async function run(release: 'v1' | 'v2' | 'unhealthy' | 'crash') {
  const container = await docker.createContainer({
    Image: appFixture(release).ref,
    Labels: testkitLabels(),
    ExposedPorts: { [`${appPort}/tcp`]: {} },
    HostConfig: { PortBindings: { [`${appPort}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: '' }] } },
  });
  started.push(container.id);
  await container.start();
  const info = await container.inspect();
  const port = info.NetworkSettings.Ports[`${appPort}/tcp`]?.[0]?.HostPort;
  return { container, url: `http://127.0.0.1:${port}` };
}

async function getWithRetry(url: string, attempts = 50): Promise<Response> {
  for (let i = 1; ; i++) {
    try {
      return await fetch(url);
    } catch (error) {
      if (i >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe('fixture app', () => {
  it('serves /health and its release on /version through a published loopback port', async () => {
    const { url } = await run('v1');
    const health = await getWithRetry(`${url}/health`);
    expect(health.status).toBe(200);
    expect(await (await fetch(`${url}/version`)).text()).toBe('v1\n');
  });

  it('has releases that differ in content', async () => {
    const { url } = await run('v2');
    expect(await (await getWithRetry(`${url}/version`)).text()).toBe('v2\n');
  });

  it('has a release whose health check fails', async () => {
    const { url } = await run('unhealthy');
    expect((await getWithRetry(`${url}/health`)).status).toBe(404);
    expect((await fetch(`${url}/version`)).status).toBe(200);
  });

  it('has a release that exits at start', async () => {
    const { container } = await run('crash');
    const result = (await container.wait()) as { StatusCode: number };
    expect(result.StatusCode).toBe(3);
  });

  it('stops promptly on SIGTERM', async () => {
    const { container, url } = await run('v1');
    await getWithRetry(`${url}/health`);
    const before = performance.now();
    await container.stop({ t: 10 });
    // A container that ignored SIGTERM would take the full 10 s grace period.
    expect(performance.now() - before).toBeLessThan(5_000);
  });

  it('skips the build when the content did not change', async () => {
    expect(await buildFixtureImage(docker, appFixture('v1'))).toBe(false);
  });
});
