import { createHmac, randomUUID } from 'node:crypto';
import type { RegistryObservation, WebhookRequest } from '@docker-watcher/core';
import type { RegistryHarness } from '@docker-watcher/core/testing';
import { type LocalRegistry, seedImages } from '@docker-watcher/testkit';
import { createGhcrRegistry, type GhcrRegistry, type GhcrRegistryOptions } from '../../src/index.ts';

export const webhookSecret = 'ghcr-conformance-webhook-secret';

/** Options pointing the registry side at a testkit registry (its token server stands for ghcr.io/token). */
export function optionsFor(
  registry: LocalRegistry,
  more: Partial<GhcrRegistryOptions> = {},
): GhcrRegistryOptions {
  return {
    registryUrl: registry.url,
    apiUrl: 'http://127.0.0.1:9',
    ...(registry.credentials
      ? { username: registry.credentials.username, token: registry.credentials.password }
      : {}),
    ...more,
  };
}

export const sign = (body: Uint8Array | string, secret: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/**
 * A `package` event body for a ghcr.io push, shaped like GitHub's (see fixtures/): `CONTAINER`
 * type, the digest as version name, the tag in `container_metadata.tag.name` (`""` when untagged).
 */
export function packagePayload(
  repository: string,
  tag: string,
  digest = `sha256:${'0'.repeat(64)}`,
  action: 'published' | 'updated' = 'published',
): Record<string, unknown> {
  const [owner = '', ...rest] = repository.split('/');
  const login = { login: owner, id: 21031067, type: 'Organization', site_admin: false };
  return {
    action,
    package: {
      id: 10696,
      name: rest.join('/'),
      namespace: owner,
      description: null,
      ecosystem: 'CONTAINER',
      package_type: 'CONTAINER',
      html_url: `https://github.com/${owner}/packages/10696`,
      created_at: '2026-05-09T23:28:29Z',
      updated_at: '2026-05-09T23:28:29Z',
      owner: login,
      package_version: {
        id: 57755790,
        version: digest,
        name: digest,
        description: '',
        summary: '',
        manifest: '',
        html_url: `https://github.com/${owner}/${rest.join('/')}/pkgs/container/${rest.join('/')}/57755790`,
        metadata: [],
        container_metadata: { tag: { name: tag, digest }, labels: {}, manifest: {} },
        package_files: [],
        installation_command: `docker pull ghcr.io/${repository}:${tag}`,
        package_url: `ghcr.io/${repository}:${tag}`,
      },
      registry: {
        about_url: 'https://docs.github.com/packages/learn-github-packages/introduction-to-github-packages',
        name: 'GitHub CONTAINER registry',
        type: 'CONTAINER',
        url: `https://CONTAINER.pkg.github.com/${owner}`,
        vendor: 'GitHub Inc',
      },
    },
    organization: { login: owner, id: 21031067 },
    sender: { login: 'ci-bot', id: 1, type: 'User' },
  };
}

/** A delivery as GitHub sends it: compact JSON body, `X-GitHub-*` and `X-Hub-Signature-256` headers. */
export function delivery(
  payload: unknown,
  secret: string | undefined,
  more: Record<string, string | undefined> = {},
  event = 'package',
): WebhookRequest {
  const body = new TextEncoder().encode(JSON.stringify(payload));
  return {
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': randomUUID(),
      'x-github-hook-id': '123456',
      'x-github-hook-installation-target-type': 'organization',
      ...(secret === undefined ? {} : { 'x-hub-signature-256': sign(body, secret) }),
      ...more,
    },
    body,
  };
}

/** The kit's harness: the registry side against a real testkit registry, webhooks signed like GitHub's. */
export function ghcrHarness(
  registry: LocalRegistry,
  more: Partial<GhcrRegistryOptions> = {},
): RegistryHarness & { readonly registry: GhcrRegistry } {
  const adapter = createGhcrRegistry(optionsFor(registry, { pageSize: 50, webhookSecret, ...more }), {
    instance: `conformance-${registry.auth}`,
  });
  const announce = (observation: RegistryObservation, secret: string) =>
    delivery(packagePayload(observation.repository, observation.tag, observation.digest), secret, {
      ...(observation.eventId ? { 'x-github-delivery': observation.eventId } : {}),
    });
  return {
    registry: adapter,
    manyTags: 120,
    seed: (seed) => seedImages(registry, seed),
    requestCount: () => adapter.stats().requests,
    webhooks: {
      signed: (observation) => announce(observation, webhookSecret),
      forged: (observation) => announce(observation, `${webhookSecret}-forged`),
      malformed: () => {
        const body = new TextEncoder().encode('{"action": "published", "package": {"package_type": "CONTAI');
        return {
          headers: { 'x-github-event': 'package', 'x-hub-signature-256': sign(body, webhookSecret) },
          body,
        };
      },
    },
  };
}
