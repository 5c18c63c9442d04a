import { readFileSync } from 'node:fs';
import { type CoreError, createMemoryLogger, isCoreError, type WebhookRequest } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { createGhcrRegistry, type GhcrRegistry } from '../src/index.ts';
import { delivery, packagePayload, sign } from './support/harness.ts';

const secret = 'ghcr-hook-secret-c0ffee';
const fixture = (name: string) =>
  new Uint8Array(readFileSync(new URL(`./fixtures/${name}`, import.meta.url)));
/** GitHub's example `package` / `registry_package` published payloads (octokit/webhooks), bytes as stored. */
const packagePublished = fixture('github-package-published.json');
const registryPackagePublished = fixture('github-registry-package-published.json');
const npmPublished = fixture('github-package-published-npm.json');

const adapter = (logger = createMemoryLogger()) => createGhcrRegistry({ webhookSecret: secret }, { logger });

function real(
  body: Uint8Array,
  event: string,
  signature: string | undefined,
  id = '72d3162e-cc78-11e3-81ab-4c9367dc0958',
) {
  return {
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': id,
      'x-github-hook-id': '292430182',
      'x-github-hook-installation-target-type': 'organization',
      ...(signature === undefined ? {} : { 'x-hub-signature-256': signature }),
    },
    body,
  } satisfies WebhookRequest;
}

/** The real example with a tag filled in (the example's tag name is empty) and a well-formed digest. */
function tagged(body: Uint8Array, key: 'package' | 'registry_package', tag: string): Uint8Array {
  const document = JSON.parse(new TextDecoder().decode(body));
  const version = document[key].package_version;
  version.container_metadata.tag = { name: tag, digest: `sha256:${'d'.repeat(64)}` };
  return new TextEncoder().encode(JSON.stringify(document, null, 2));
}

async function failure(registry: GhcrRegistry, request: WebhookRequest): Promise<CoreError> {
  const error = await registry.parseWebhook?.(request).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isCoreError(error)) throw new Error(`expected a CoreError, got ${String(error)}`);
  return error;
}

describe('GitHub package webhooks', () => {
  it.each([
    ['package', packagePublished],
    ['registry_package', registryPackagePublished],
  ] as const)('verifies the real %s example; its empty tag gives no observation', async (event, body) => {
    expect(await adapter().parseWebhook?.(real(body, event, sign(body, secret)))).toEqual([]);
  });

  it.each([
    ['package', packagePublished],
    ['registry_package', registryPackagePublished],
  ] as const)('rejects the real %s example tampered with after signing', async (event, body) => {
    const tampered = new Uint8Array(body);
    const at = tampered.indexOf(0x22, 100) + 1;
    tampered[at] = (tampered[at] ?? 0) ^ 1;
    expect((await failure(adapter(), real(tampered, event, sign(body, secret)))).code).toBe('UNAUTHORIZED');
    expect((await failure(adapter(), real(body, event, sign(body, 'wrong')))).code).toBe('UNAUTHORIZED');
  });

  it.each(['package', 'registry_package'] as const)(
    'turns the %s example with a tag into one pushed observation',
    async (event) => {
      const body = tagged(event === 'package' ? packagePublished : registryPackagePublished, event, 'v1.2.3');
      expect(await adapter().parseWebhook?.(real(body, event, sign(body, secret)))).toEqual([
        {
          repository: 'codertocat/hello-world-npm',
          tag: 'v1.2.3',
          digest: `sha256:${'d'.repeat(64)}`,
          action: 'pushed',
          eventId: expect.stringMatching(/^[0-9a-f]{32}$/),
          occurredAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
        },
      ]);
    },
  );

  it('ignores the npm example ([])', async () => {
    expect(await adapter().parseWebhook?.(real(npmPublished, 'package', sign(npmPublished, secret)))).toEqual(
      [],
    );
  });

  it.each([
    ['no signature header', undefined],
    ['an empty signature', 'sha256='],
    ['a legacy sha1 form', 'sha1=0123456789abcdef0123456789abcdef01234567'],
  ])('rejects %s with UNAUTHORIZED', async (_name, signature) => {
    expect((await failure(adapter(), real(packagePublished, 'package', signature))).code).toBe(
      'UNAUTHORIZED',
    );
  });

  it('a delivery sent again under a new delivery id is the same event (eventId from the signed body)', async () => {
    const registry = adapter();
    const body = tagged(packagePublished, 'package', 'v1');
    const [first] = (await registry.parseWebhook?.(real(body, 'package', sign(body, secret)))) ?? [];
    const [again] =
      (await registry.parseWebhook?.(real(body, 'package', sign(body, secret), 'another-delivery'))) ?? [];
    expect(again?.eventId).toBe(first?.eventId);
    const other = tagged(packagePublished, 'package', 'v2');
    const [next] = (await registry.parseWebhook?.(real(other, 'package', sign(other, secret)))) ?? [];
    expect(next?.eventId).not.toBe(first?.eventId);
  });

  it('a multi-arch burst names one event: empty tags dropped, repeats of a tag at one digest share an eventId', async () => {
    const registry = adapter();
    const index = `sha256:${'e'.repeat(64)}`;
    const burst = [
      packagePayload('Acme/Web', '', `sha256:${'1'.repeat(64)}`),
      packagePayload('Acme/Web', '', `sha256:${'2'.repeat(64)}`),
      packagePayload('Acme/Web', 'v2.0.0', index),
      packagePayload('Acme/Web', 'v2.0.0', index, 'updated'),
    ];
    const observations = [];
    for (const payload of burst)
      observations.push(...((await registry.parseWebhook?.(delivery(payload, secret))) ?? []));
    expect(observations).toMatchObject([
      { repository: 'acme/web', tag: 'v2.0.0', digest: index, action: 'pushed' },
      { repository: 'acme/web', tag: 'v2.0.0', digest: index, action: 'pushed' },
    ]);
    // The engine records the first and drops the second as a repeat.
    expect(new Set(observations.map((o) => o.eventId)).size).toBe(1);
  });

  it('refuses a body over 1 MiB with BAD_REQUEST', async () => {
    const payload = packagePayload('acme/web', 'v1');
    (payload.package as Record<string, unknown>).description = 'x'.repeat(1024 * 1024);
    expect((await failure(adapter(), delivery(payload, secret))).code).toBe('BAD_REQUEST');
  });

  it.each([
    ['a body that is not JSON', '<html>oops</html>'],
    ['a truncated body', '{"action": "published", "package": {"package_type": "CONTAI'],
    ['JSON without a package', '{"action": "published"}'],
  ])('rejects %s with BAD_REQUEST', async (_name, text) => {
    const body = new TextEncoder().encode(text);
    expect((await failure(adapter(), real(body, 'package', sign(body, secret)))).code).toBe('BAD_REQUEST');
  });

  it('ignores other events once signed', async () => {
    const body = new TextEncoder().encode('{"zen": "Keep it logically awesome.", "hook_id": 1}');
    expect(await adapter().parseWebhook?.(real(body, 'ping', sign(body, secret)))).toEqual([]);
  });

  it('never shows the secret in errors or log lines', async () => {
    const logger = createMemoryLogger();
    const registry = adapter(logger);
    const errors = [
      await failure(registry, real(packagePublished, 'package', sign(packagePublished, 'nope'))),
      await failure(registry, real(packagePublished, 'package', undefined)),
    ];
    await registry.parseWebhook?.(real(packagePublished, 'package', sign(packagePublished, secret)));
    expect(JSON.stringify([errors, errors.map((error) => error.message), logger.entries])).not.toContain(
      secret,
    );
  });
});
