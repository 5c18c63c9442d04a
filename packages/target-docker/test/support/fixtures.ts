// Real fixtures for the integration tests: the testkit's app images pushed to a local registry, so
// every deploy pulls `127.0.0.1:<port>/<repo>@sha256:…` as in production; targets labelled per run
// so that cleanup removes exactly what this test file created.
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import type { Release } from '@docker-watcher/core';
import {
  type AppRelease,
  appFixture,
  dockerClient,
  type LocalRegistry,
  pushImage,
  type StartRegistryOptions,
  startRegistry,
  testkitLabel,
} from '@docker-watcher/testkit';
import { createDockerTarget, type DockerTarget, type DockerTargetOptions } from '../../src/index.ts';

export const fixtureTags = [
  'v1',
  'v2',
  'unhealthy',
  'crash',
  'slow',
] as const satisfies readonly AppRelease[];

export interface FixtureRegistry {
  readonly registry: LocalRegistry;
  /** `127.0.0.1:<port>/<repository>` */
  readonly image: string;
  readonly releases: Readonly<Record<(typeof fixtureTags)[number], Release>>;
}

/** Starts a registry and pushes the fixture releases as tags of one repository. */
export async function startFixtureRegistry(
  options: StartRegistryOptions & {
    repository?: string;
    tags?: ReadonlyArray<(typeof fixtureTags)[number]>;
  } = {},
): Promise<FixtureRegistry> {
  const { repository = 'fixtures/app', tags = fixtureTags, ...registryOptions } = options;
  const registry = await startRegistry(registryOptions);
  const releases: Partial<Record<(typeof fixtureTags)[number], Release>> = {};
  try {
    for (const tag of tags) {
      const pushed = await pushImage(registry, { source: appFixture(tag).ref, repository, tag });
      releases[tag] = { tag, digest: pushed.digest };
    }
  } catch (error) {
    await registry.stop();
    throw error;
  }
  return {
    registry,
    image: `${registry.host}/${repository}`,
    releases: releases as FixtureRegistry['releases'],
  };
}

/** One test file's share of the engine: a network, a label on everything, and cleanup of both. */
export interface TestRun {
  readonly id: string;
  readonly network: string;
  readonly label: string;
  /** A target on this run's network, publishing on loopback, with short stop timeouts. */
  target(options?: DockerTargetOptions): DockerTarget;
  /** Removes this run's containers (any project) and the network. */
  cleanup(): Promise<void>;
  /**
   * Removes the references this run pulled from `image`, and the pull markers of its projects (see
   * `testProject`), or those `markers` picks.
   */
  removeImages(image: string, markers?: (reference: string) => boolean): Promise<void>;
}

/** The container name a `docker-watcher-keep/<name in hex>:<due>` mark holds. */
const keptFor = (reference: string) => {
  const hex = /^docker-watcher-keep\/([0-9a-f]+):/.exec(reference)?.[1];
  return hex === undefined ? undefined : Buffer.from(hex, 'hex').toString('utf8');
};

export function testRun(name: string): TestRun {
  const id = `${name}-${randomUUID().slice(0, 8)}`;
  const network = `dw-test-${id}`;
  const label = 'docker-watcher-test.run';
  const targets: DockerTarget[] = [];
  const docker = dockerClient();
  return {
    id,
    network,
    label,
    target: (options = {}) => {
      const target = createDockerTarget({
        network,
        publish: true,
        stopTimeoutSeconds: 1,
        ...options,
        // The fixture images carry the testkit label, and containers inherit image labels: without
        // this override, any other vitest run's global setup (removeTestkitResources) would remove
        // this run's containers mid-test. This file's own cleanup removes them instead.
        labels: { [testkitLabel]: 'false', [label]: id, ...options.labels },
      });
      targets.push(target);
      return target;
    },
    cleanup: async () => {
      await Promise.all(targets.map((target) => target.dispose()));
      const containers = await docker.listContainers({ all: true, filters: { label: [`${label}=${id}`] } });
      await Promise.all(
        containers.map((info) =>
          docker
            .getContainer(info.Id)
            .remove({ force: true, v: true })
            .catch(() => undefined),
        ),
      );
      await docker
        .getNetwork(network)
        .remove()
        .catch(() => undefined);
    },
    removeImages: async (image, markers = (reference) => reference.includes(id)) => {
      const images = await docker.listImages();
      for (const info of images) {
        const references = [
          ...(info.RepoDigests ?? []).filter((reference) => reference.startsWith(`${image}@`)),
          ...(info.RepoTags ?? []).filter(
            (reference) => reference.startsWith('docker-watcher-pulled/') && markers(reference),
          ),
          // Label mode's marks of previous images waiting for removal, on this run's containers.
          ...(info.RepoTags ?? []).filter((reference) => keptFor(reference)?.includes(id)),
        ];
        for (const reference of references) {
          await docker
            .getImage(reference)
            .remove()
            .catch(() => undefined);
        }
      }
    },
  };
}

/** Project names for tests: unique, recognisable, and matched by `removeImages`. */
export function testProject(run: TestRun, what: string): string {
  return `test-${what}-${run.id}`.slice(0, 60);
}

/** GET over loopback, for checking what an endpoint serves. */
export async function fetchText(endpoint: { host: string; port: number }, path: string): Promise<string> {
  const response = await fetch(`http://${endpoint.host}:${endpoint.port}${path}`, {
    signal: AbortSignal.timeout(2_000),
  });
  return (await response.text()).trim();
}

/** What Caddy's plain-HTTP listener answers for `host`'s `/version`: `<status> <body>`, or the failure. */
export function versionThroughCaddy(port: number, host: string): Promise<string> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/version', headers: { host }, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve(`${res.statusCode} ${body.trim()}`));
      },
    );
    req.setTimeout(5_000, () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (error) => resolve(`error ${error.message}`));
    req.end();
  });
}
