import { createHmac, randomUUID } from 'node:crypto';
import type { RegistryObservation, WebhookRequest } from '@docker-watcher/core';
import type { RegistryHarness } from '@docker-watcher/core/testing';
import { type LocalRegistry, seedImages } from '@docker-watcher/testkit';
import { createGiteaRegistry, type GiteaRegistry, type GiteaRegistryOptions } from '../../src/index.ts';

export const webhookSecret = 'gitea-conformance-webhook-secret';

/** Options pointing the registry side at a testkit registry (the packages API is not used by the kit). */
export function optionsFor(
  registry: LocalRegistry,
  more: Partial<GiteaRegistryOptions> = {},
): GiteaRegistryOptions {
  return {
    url: 'http://127.0.0.1:9',
    registryUrl: registry.url,
    ...(registry.credentials
      ? { username: registry.credentials.username, token: registry.credentials.password }
      : {}),
    ...more,
  };
}

/** A `package` event body shaped like Gitea 1.26's (see fixtures/gitea-package-created.json). */
export function packagePayload(
  repository: string,
  version: string,
  action: 'created' | 'deleted' = 'created',
  type = 'container',
): Record<string, unknown> {
  const [owner = '', ...rest] = repository.split('/');
  const user = {
    id: 3,
    login: owner,
    username: owner,
    full_name: '',
    email: `${owner}@noreply.gitea.example`,
  };
  const sender = { id: 1, login: 'ci-bot', username: 'ci-bot', full_name: 'CI Bot' };
  return {
    action,
    repository: null,
    package: {
      id: 42,
      owner: user,
      repository: null,
      creator: sender,
      type,
      name: rest.join('/'),
      version,
      html_url: `https://gitea.example/${owner}/-/packages/${type}/${rest.join('/')}/${version}`,
      created_at: new Date().toISOString(),
    },
    organization: null,
    sender,
  };
}

export const sign = (body: Uint8Array | string, secret: string) =>
  createHmac('sha256', secret).update(body).digest('hex');

/** A delivery as Gitea sends it: pretty-printed JSON, Gitea, GitHub and Gogs headers. */
export function delivery(
  payload: unknown,
  secret: string | undefined,
  more: Record<string, string | undefined> = {},
): WebhookRequest {
  const body = new TextEncoder().encode(JSON.stringify(payload, null, 2));
  const signature = secret === undefined ? '' : sign(body, secret);
  const id = randomUUID();
  return {
    headers: {
      'content-type': 'application/json',
      'x-gitea-event': 'package',
      'x-gitea-event-type': 'package',
      'x-gitea-delivery': id,
      'x-gitea-signature': signature,
      'x-github-event': 'package',
      'x-github-delivery': id,
      'x-hub-signature-256': `sha256=${signature}`,
      'x-gogs-event': 'package',
      ...more,
    },
    body,
  };
}

/** The kit's harness: the registry side against a real testkit registry, webhooks signed like Gitea's. */
export function giteaHarness(
  registry: LocalRegistry,
  more: Partial<GiteaRegistryOptions> = {},
): RegistryHarness & { readonly registry: GiteaRegistry } {
  const adapter = createGiteaRegistry(optionsFor(registry, { pageSize: 50, webhookSecret, ...more }), {
    instance: `conformance-${registry.auth}`,
  });
  const announce = (observation: RegistryObservation, secret: string) =>
    delivery(packagePayload(observation.repository, observation.tag), secret, {
      ...(observation.eventId ? { 'x-gitea-delivery': observation.eventId } : {}),
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
        const body = new TextEncoder().encode('{"action": "created", "package": {"type": "contai');
        return {
          headers: { 'x-gitea-event': 'package', 'x-gitea-signature': sign(body, webhookSecret) },
          body,
        };
      },
    },
  };
}
