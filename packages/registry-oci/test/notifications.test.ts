// Distribution's own notifications, delivered by a real registry to a loopback receiver, read by parseWebhook.
import type { IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:http';
import type { WebhookRequest } from '@docker-watcher/core';
import { expectCoreError, pollUntil } from '@docker-watcher/core/testing';
import { type LocalRegistry, pushSyntheticTags, startRegistry } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOciRegistry, type OciRegistry } from '../src/index.ts';

const secret = 'notification-secret-3c9e';

interface Delivery {
  readonly headers: IncomingHttpHeaders;
  readonly body: Uint8Array;
}

/** What the server hands to `parseWebhook`: lower-case header names, raw body bytes. */
const asRequest = (delivery: Delivery): WebhookRequest => ({
  headers: Object.fromEntries(
    Object.entries(delivery.headers).map(([name, value]) => [
      name,
      Array.isArray(value) ? value.join(', ') : value,
    ]),
  ),
  body: delivery.body,
});

describe('distribution notifications', () => {
  const deliveries: Delivery[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body: new Uint8Array(Buffer.concat(chunks)) });
      res.writeHead(202).end();
    });
  });
  let registry: LocalRegistry;
  let adapter: OciRegistry;

  beforeAll(async () => {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', () => resolve()));
    const address = receiver.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    registry = await startRegistry({
      notifications: [
        {
          name: 'watcher',
          url: `http://127.0.0.1:${port}/hook`,
          headers: { Authorization: `Bearer ${secret}` },
        },
      ],
    });
    adapter = createOciRegistry({ url: registry.url, webhook: { secret } });
  });
  afterAll(async () => {
    await registry?.stop();
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  });

  it('turns the registry’s push of a tag into one observation with its digest, once', async () => {
    const [pushed] = await pushSyntheticTags(registry, 'hooks/app', ['v1.2.3']);
    const seen = await pollUntil(
      async () => {
        const all = [];
        for (const delivery of deliveries.splice(0))
          all.push(...((await adapter.parseWebhook?.(asRequest(delivery))) ?? []));
        return all;
      },
      (observations) => observations.length > 0,
      { intervalMs: 100, timeoutMs: 10_000 },
    );
    const observations = seen.flat();
    expect(observations).toHaveLength(1);
    expect(observations[0]).toMatchObject({
      repository: 'hooks/app',
      tag: 'v1.2.3',
      action: 'pushed',
      digest: pushed?.digest,
    });
    expect(observations[0]?.eventId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('gives a delivery sent again the same eventIds (the engine drops repeats), and ignores blobs and pulls', async () => {
    await pushSyntheticTags(registry, 'hooks/again', ['v1']);
    await fetch(`${registry.url}/v2/hooks/again/manifests/v1`, {
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    const batches = await pollUntil(
      async () => deliveries.length,
      (count) => count >= 3,
      { intervalMs: 100, timeoutMs: 10_000 },
    );
    expect(batches.at(-1)).toBeGreaterThanOrEqual(3);
    const received = deliveries.splice(0);
    expect(
      received.every(
        (delivery) =>
          delivery.headers['content-type'] === 'application/vnd.docker.distribution.events.v1+json',
      ),
    ).toBe(true);
    const first = [];
    for (const delivery of received)
      first.push(...((await adapter.parseWebhook?.(asRequest(delivery))) ?? []));
    expect(first.map((observation) => `${observation.repository}:${observation.tag}`)).toEqual([
      'hooks/again:v1',
    ]);
    // The adapter remembers nothing: a delivery the engine could not record must come through again.
    const replayed = [];
    for (const delivery of received)
      replayed.push(...((await adapter.parseWebhook?.(asRequest(delivery))) ?? []));
    expect(replayed.map((observation) => observation.eventId)).toEqual(first.map((o) => o.eventId));
  });

  it('refuses a delivery without the secret, with a wrong one, and one over 1 MiB', async () => {
    const body = new TextEncoder().encode('{"events":[]}');
    await expectCoreError(adapter.parseWebhook?.({ headers: {}, body }) ?? Promise.resolve(), 'UNAUTHORIZED');
    await expectCoreError(
      adapter.parseWebhook?.({ headers: { authorization: 'Bearer nope' }, body }) ?? Promise.resolve(),
      'UNAUTHORIZED',
    );
    const huge = new Uint8Array(1024 * 1024 + 1).fill(0x20);
    await expectCoreError(
      adapter.parseWebhook?.({ headers: { authorization: `Bearer ${secret}` }, body: huge }) ??
        Promise.resolve(),
      'BAD_REQUEST',
    );
    await expectCoreError(
      adapter.parseWebhook?.({
        headers: { authorization: `Bearer ${secret}` },
        body: new TextEncoder().encode('{"events":'),
      }) ?? Promise.resolve(),
      'BAD_REQUEST',
    );
  });

  it('reads a custom header when configured', async () => {
    const custom = createOciRegistry({ url: registry.url, webhook: { header: 'X-Registry-Token', secret } });
    const body = new TextEncoder().encode('{"events":[]}');
    expect(await custom.parseWebhook?.({ headers: { 'x-registry-token': secret }, body })).toEqual([]);
    await expectCoreError(
      custom.parseWebhook?.({ headers: { authorization: `Bearer ${secret}` }, body }) ?? Promise.resolve(),
      'UNAUTHORIZED',
    );
  });
});
