import { randomUUID } from 'node:crypto';
import type { RegistryObservation, WebhookRequest } from '@docker-watcher/core';
import type { RegistryHarness } from '@docker-watcher/core/testing';
import { type LocalRegistry, seedImages } from '@docker-watcher/testkit';
import { createOciRegistry, type OciRegistry, type OciRegistryOptions } from '../../src/index.ts';

export const webhookSecret = 'conformance-webhook-secret';

/** Options that point the adapter at a testkit registry, with its credentials in basic and token modes. */
export function optionsFor(
  registry: LocalRegistry,
  more: Partial<OciRegistryOptions> = {},
): OciRegistryOptions {
  return {
    url: registry.url,
    ...(registry.credentials
      ? { username: registry.credentials.username, password: registry.credentials.password }
      : {}),
    ...more,
  };
}

/** A notification as distribution 2.8 sends it for a manifest pushed by tag (see fixtures/). */
export function notificationRequest(
  observations: readonly RegistryObservation[],
  authorization: string | undefined,
): WebhookRequest {
  const events = observations.map((observation) => ({
    id: observation.eventId ?? randomUUID(),
    timestamp: new Date().toISOString(),
    action: 'push',
    target: {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: 345,
      ...(observation.digest ? { digest: observation.digest } : {}),
      length: 345,
      repository: observation.repository,
      url: `http://127.0.0.1/v2/${observation.repository}/manifests/${observation.digest ?? observation.tag}`,
      tag: observation.tag,
    },
    request: {
      id: randomUUID(),
      addr: '127.0.0.1:1',
      host: '127.0.0.1',
      method: 'PUT',
      useragent: 'conformance',
    },
    actor: {},
    source: { addr: 'conformance:5000', instanceID: randomUUID() },
  }));
  return {
    headers: {
      'content-type': 'application/vnd.docker.distribution.events.v1+json',
      ...(authorization === undefined ? {} : { authorization }),
    },
    body: new TextEncoder().encode(JSON.stringify({ events }, null, 3)),
  };
}

/**
 * The conformance kit's harness over a real testkit registry: a fresh adapter per case, seeding
 * through the registry API (synthetic single-platform images, or an OCI index for `platforms`).
 */
export function ociHarness(
  registry: LocalRegistry,
  more: Partial<OciRegistryOptions> = {},
): RegistryHarness & {
  readonly registry: OciRegistry;
} {
  const adapter = createOciRegistry(
    optionsFor(registry, { pageSize: 50, webhook: { secret: webhookSecret }, ...more }),
    { instance: `conformance-${registry.auth}` },
  );
  return {
    registry: adapter,
    manyTags: 120,
    seed: async (seed) => {
      const { config } = seed;
      if (
        !seed.platforms &&
        config &&
        (config.exposedPorts.length !== 1 || config.exposedPorts[0] !== 8080)
      ) {
        throw new Error('the testkit synthetic images expose port 8080 only');
      }
      return seedImages(registry, seed);
    },
    requestCount: () => adapter.stats().requests,
    webhooks: {
      signed: (observation) => notificationRequest([observation], `Bearer ${webhookSecret}`),
      forged: (observation) => notificationRequest([observation], `Bearer ${webhookSecret}-forged`),
      malformed: () => ({
        headers: { authorization: `Bearer ${webhookSecret}` },
        body: new TextEncoder().encode('{"events": [{"id": "truncated'),
      }),
    },
  };
}
