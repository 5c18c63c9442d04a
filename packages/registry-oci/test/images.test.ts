// Digests, platforms and image configs of real images: fixture images pushed through the engine, and OCI indexes.
import { expectCoreError } from '@docker-watcher/core/testing';
import {
  appFixture,
  type LocalRegistry,
  type PushedIndex,
  pushImage,
  pushIndex,
  startRegistry,
} from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOciRegistry } from '../src/index.ts';
import { optionsFor } from './support/harness.ts';

describe('images in distribution 2.8 (token auth)', () => {
  let registry: LocalRegistry;
  let pushedDigest: string;
  let index: PushedIndex;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
    pushedDigest = (
      await pushImage(registry, { source: appFixture('v1').ref, repository: 'team/web-app', tag: 'v1.0.0' })
    ).digest;
    index = await pushIndex(
      registry,
      'team/multi',
      'v2',
      [
        { os: 'linux', architecture: 'amd64' },
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
      ],
      { labels: { 'org.opencontainers.image.version': '2' }, exposedPorts: [3000, 9090] },
    );
  });
  afterAll(() => registry?.stop());

  it('resolves an engine-pushed tag to the digest the engine reported (Docker v2 manifest)', async () => {
    const adapter = createOciRegistry(optionsFor(registry));
    const resolved = await adapter.resolveReference({ repository: 'team/web-app', reference: 'v1.0.0' });
    expect(resolved).toEqual({
      digest: pushedDigest,
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    });
    expect(await adapter.resolveReference({ repository: 'team/web-app', reference: pushedDigest })).toEqual(
      resolved,
    );
  });

  it('reads labels, exposed ports and the healthcheck of the fixture app', async () => {
    const adapter = createOciRegistry(optionsFor(registry));
    const config = await adapter.readImageConfig({ repository: 'team/web-app', digest: pushedDigest });
    // The testkit adds labels of its own when it builds the image; the Dockerfile's are what matters here.
    expect(config).toEqual({
      labels: expect.objectContaining({
        'org.opencontainers.image.title': 'docker-watcher fixture app',
        'docker-watcher.fixture.release': 'v1',
      }),
      exposedPorts: [8080],
      healthcheck: {
        test: ['CMD', '/bin/busybox', 'wget', '-q', '-O', '/dev/null', 'http://127.0.0.1:8080/health'],
        intervalMs: 1000,
        timeoutMs: 1000,
        startPeriodMs: 1000,
        retries: 3,
      },
    });
  });

  it('resolves an index to its digest and platforms', async () => {
    const adapter = createOciRegistry(optionsFor(registry));
    expect(await adapter.resolveReference({ repository: 'team/multi', reference: 'v2' })).toEqual({
      digest: index.digest,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      platforms: index.platforms,
    });
  });

  it('reads the config of the platform named by the call, or by the option', async () => {
    const adapter = createOciRegistry(optionsFor(registry));
    const arm = await adapter.readImageConfig({
      repository: 'team/multi',
      digest: index.digest,
      platform: { os: 'linux', architecture: 'arm64' },
    });
    expect(arm).toEqual({
      labels: { 'org.opencontainers.image.version': '2', 'docker-watcher.test.platform': 'linux/arm64' },
      exposedPorts: [3000, 9090],
    });
    const byOption = createOciRegistry(
      optionsFor(registry, { platform: { os: 'linux', architecture: 'amd64' } }),
    );
    const amd = await byOption.readImageConfig({ repository: 'team/multi', digest: index.digest });
    expect(amd.labels['docker-watcher.test.platform']).toBe('linux/amd64');
  });

  it('wants a platform for an index of several, and has none for a platform the index lacks', async () => {
    const adapter = createOciRegistry(optionsFor(registry));
    const unnamed = await expectCoreError(
      adapter.readImageConfig({ repository: 'team/multi', digest: index.digest }),
      'BAD_REQUEST',
    );
    expect(unnamed.message).toContain('linux/amd64, linux/arm64/v8');
    await expectCoreError(
      adapter.readImageConfig({
        repository: 'team/multi',
        digest: index.digest,
        platform: { os: 'windows', architecture: 'amd64' },
      }),
      'NOT_FOUND',
    );
    await expectCoreError(
      adapter.readImageConfig({ repository: 'team/multi', digest: `sha256:${'0'.repeat(64)}` }),
      'NOT_FOUND',
    );
  });
});
