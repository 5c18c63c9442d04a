import { readFileSync } from 'node:fs';
import { type CoreError, createMemoryLogger, isCoreError, type WebhookRequest } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { createGiteaRegistry, type GiteaRegistry } from '../src/index.ts';
import { delivery, packagePayload, sign } from './support/harness.ts';

const secret = 'gitea-hook-secret-5b1e';
/** Gitea's package event as the shared API notes synthesize it from the 1.26 schema, bytes as stored. */
const fixture = new Uint8Array(
  readFileSync(new URL('./fixtures/gitea-package-created.json', import.meta.url)),
);

const adapter = (logger = createMemoryLogger()) =>
  createGiteaRegistry({ url: 'https://git.example.com', webhookSecret: secret }, { logger });

/** The fixture's bytes with the headers Gitea sends along. */
function real(
  body: Uint8Array,
  signature: string | undefined,
  more: Record<string, string> = {},
): WebhookRequest {
  return {
    headers: {
      'content-type': 'application/json',
      'x-gitea-event': 'package',
      'x-gitea-event-type': 'package',
      'x-gitea-delivery': '8f0c8a52-3d7e-4c59-9b8d-1f2e3a4b5c6d',
      'x-gitea-hook-installation-target-type': 'organization',
      ...(signature === undefined ? {} : { 'x-gitea-signature': signature }),
      ...more,
    },
    body,
  };
}

async function failure(registry: GiteaRegistry, request: WebhookRequest): Promise<CoreError> {
  const error = await registry.parseWebhook?.(request).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isCoreError(error)) throw new Error(`expected a CoreError, got ${String(error)}`);
  return error;
}

describe('Gitea package webhooks', () => {
  it('verifies the real payload, signed over its raw bytes, into one pushed observation', async () => {
    const observations = await adapter().parseWebhook?.(real(fixture, sign(fixture, secret)));
    expect(observations).toEqual([
      {
        repository: 'acme/web',
        tag: '1.4.2',
        action: 'pushed',
        eventId: expect.stringMatching(/^[0-9a-f]{32}$/),
        occurredAt: '2026-06-01T12:34:56Z',
      },
    ]);
  });

  it('rejects the real payload tampered with after signing, and observes nothing', async () => {
    const tampered = new TextEncoder().encode(new TextDecoder().decode(fixture).replace('1.4.2', '6.6.6'));
    const registry = adapter();
    const error = await failure(registry, real(tampered, sign(fixture, secret)));
    expect(error.code).toBe('UNAUTHORIZED');
    // A re-serialization differs in bytes from what was signed: refused too.
    const reserialized = new TextEncoder().encode(
      JSON.stringify(JSON.parse(new TextDecoder().decode(fixture))),
    );
    expect((await failure(registry, real(reserialized, sign(fixture, secret)))).code).toBe('UNAUTHORIZED');
    // The genuine delivery still goes through afterwards: nothing was recorded by the rejections.
    expect(await registry.parseWebhook?.(real(fixture, sign(fixture, secret)))).toHaveLength(1);
  });

  it('rejects a signature made with another secret', async () => {
    expect((await failure(adapter(), real(fixture, sign(fixture, 'other-secret')))).code).toBe(
      'UNAUTHORIZED',
    );
  });

  it.each([
    ['no signature header', undefined],
    ['the empty signature of a hook without secret', ''],
    ['a signature that is not hex', 'not-a-signature'],
  ])('rejects %s with UNAUTHORIZED', async (_name, signature) => {
    const extra: Record<string, string> = signature === '' ? { 'x-hub-signature-256': 'sha256=' } : {};
    expect((await failure(adapter(), real(fixture, signature, extra))).code).toBe('UNAUTHORIZED');
  });

  it('names a delivery by what its signed body says: the same under a new delivery id, another for another version', async () => {
    const registry = adapter();
    const [first] = (await registry.parseWebhook?.(real(fixture, sign(fixture, secret)))) ?? [];
    // A captured delivery sent again with a new (unsigned) delivery id is the same event to the engine.
    const [again] =
      (await registry.parseWebhook?.(
        real(fixture, sign(fixture, secret), { 'x-gitea-delivery': 'a-new-delivery-id' }),
      )) ?? [];
    expect(again?.eventId).toBe(first?.eventId);
    const other = new TextEncoder().encode(new TextDecoder().decode(fixture).replace('"id": 42', '"id": 43'));
    const [next] = (await registry.parseWebhook?.(real(other, sign(other, secret)))) ?? [];
    expect(next?.eventId).toMatch(/^[0-9a-f]{32}$/);
    expect(next?.eventId).not.toBe(first?.eventId);
  });

  it('refuses a body over 1 MiB with BAD_REQUEST before anything else', async () => {
    const payload = packagePayload('acme/web', 'v1.0.0');
    (payload.package as Record<string, unknown>).padding = 'x'.repeat(1024 * 1024);
    const request = delivery(payload, secret);
    expect((await failure(adapter(), request)).code).toBe('BAD_REQUEST');
  });

  it('accepts deliveries carrying only GitHub-style headers', async () => {
    const body = new TextEncoder().encode(JSON.stringify(packagePayload('acme/web', 'v2.0.0'), null, 2));
    const request: WebhookRequest = {
      headers: {
        'x-github-event': 'package',
        'x-github-delivery': 'gh-style-1',
        'x-hub-signature-256': `sha256=${sign(body, secret)}`,
      },
      body,
    };
    expect(await adapter().parseWebhook?.(request)).toMatchObject([
      { repository: 'acme/web', tag: 'v2.0.0', action: 'pushed' },
    ]);
    const forged = {
      ...request,
      headers: { ...request.headers, 'x-hub-signature-256': `sha256=${sign(body, 'x')}` },
    };
    expect((await failure(adapter(), forged)).code).toBe('UNAUTHORIZED');
  });

  it('accepts Forgejo headers', async () => {
    const body = new TextEncoder().encode(JSON.stringify(packagePayload('acme/web', 'v3.0.0')));
    const request: WebhookRequest = {
      headers: {
        'x-forgejo-event': 'package',
        'x-forgejo-delivery': 'fj-1',
        'x-forgejo-signature': sign(body, secret),
      },
      body,
    };
    expect(await adapter().parseWebhook?.(request)).toMatchObject([
      { repository: 'acme/web', tag: 'v3.0.0', action: 'pushed' },
    ]);
  });

  it('reads form-encoded deliveries, whose signature covers the JSON payload', async () => {
    const json = JSON.stringify(packagePayload('acme/web', 'v4.0.0'), null, 2);
    const request: WebhookRequest = {
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-gitea-event': 'package',
        'x-gitea-signature': sign(json, secret),
      },
      body: new TextEncoder().encode(new URLSearchParams({ payload: json }).toString()),
    };
    expect(await adapter().parseWebhook?.(request)).toMatchObject([
      { repository: 'acme/web', tag: 'v4.0.0', action: 'pushed' },
    ]);
  });

  it('maps deleted to a deletion, lower-cases owner and name, keeps image names with a slash', async () => {
    const payload = packagePayload('Acme/Tools/Web', 'v1.0.0', 'deleted');
    expect(await adapter().parseWebhook?.(delivery(payload, secret))).toMatchObject([
      { repository: 'acme/tools/web', tag: 'v1.0.0', action: 'deleted' },
    ]);
  });

  it.each([
    ['an untagged sha256: version', packagePayload('acme/web', `sha256:${'c'.repeat(64)}`)],
    ['a package that is not a container', packagePayload('acme/lib', '1.0.0', 'created', 'npm')],
  ])('ignores %s ([])', async (_name, payload) => {
    expect(await adapter().parseWebhook?.(delivery(payload, secret))).toEqual([]);
  });

  it('ignores other events ([]) once signed', async () => {
    const request = delivery({ ref: 'refs/heads/main' }, secret, {
      'x-gitea-event': 'push',
      'x-github-event': 'push',
    });
    expect(await adapter().parseWebhook?.(request)).toEqual([]);
  });

  it.each([
    ['a body that is not JSON', '<html>oops</html>'],
    ['a truncated body', '{"action": "created", "package": {"type": "container", "na'],
    ['JSON without a package', '{"action": "created"}'],
  ])('rejects %s with BAD_REQUEST', async (_name, text) => {
    const body = new TextEncoder().encode(text);
    const request: WebhookRequest = {
      headers: { 'x-gitea-event': 'package', 'x-gitea-signature': sign(body, secret) },
      body,
    };
    expect((await failure(adapter(), request)).code).toBe('BAD_REQUEST');
  });

  it('never shows the secret in errors or log lines', async () => {
    const logger = createMemoryLogger();
    const registry = adapter(logger);
    const errors = [
      await failure(registry, real(fixture, sign(fixture, 'nope'))),
      await failure(registry, real(fixture, undefined)),
    ];
    await registry.parseWebhook?.(real(fixture, sign(fixture, secret)));
    expect(JSON.stringify([errors, errors.map((error) => error.message), logger.entries])).not.toContain(
      secret,
    );
  });

  it('has no parseWebhook without webhookSecret', () => {
    const registry = createGiteaRegistry({ url: 'https://git.example.com' });
    expect(registry.capabilities.webhooks).toBe(false);
    expect(registry.parseWebhook).toBeUndefined();
  });
});
