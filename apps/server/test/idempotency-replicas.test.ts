// Two server replicas on one real PostgreSQL store: a POST retried with the same Idempotency-Key
// against the other replica gets the first answer and acts once; a retry while the first request
// still runs is a 409 with Retry-After, whichever replica it reaches.
import { randomUUID } from 'node:crypto';
import {
  createMemoryDeployTarget,
  createMemoryLogger,
  createMemoryRegistry,
  createMemoryReverseProxy,
  type MemoryRegistry,
} from '@docker-watcher/core';
import { createPostgresStateStore, type PostgresStateStore } from '@docker-watcher/store-postgres';
import { type PostgresServer, startPostgres } from '@docker-watcher/testkit';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Composed, compose } from '../src/compose.ts';
import { loadConfigText } from '../src/config/load.ts';
import { createApp } from '../src/http/app.ts';
import { errorHandler } from '../src/http/errors.ts';
import { createIdempotencyCache } from '../src/http/idempotency.ts';
import { configText, digest, env, post, tokens, webhookSecret } from './support.ts';

let postgres: PostgresServer;
const schema = `idem_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
const stores: PostgresStateStore[] = [];
const composedAll: Composed[] = [];
let registry: MemoryRegistry;

const storeOnPostgres = () => {
  const store = createPostgresStateStore({ url: postgres.url, schema, poolSize: 4 });
  stores.push(store);
  return store;
};

/** One replica: its own store connection and engine, the shared registry. */
async function replica() {
  const config = await loadConfigText(configText, env);
  const composed = compose(config, {
    logger: createMemoryLogger(),
    store: storeOnPostgres(),
    target: createMemoryDeployTarget(),
    proxy: createMemoryReverseProxy(),
    registries: { local: registry },
    listenPort: 0,
  });
  composedAll.push(composed);
  await composed.engine.start();
  return { composed, app: createApp(composed, { checkResponses: true }) };
}

beforeAll(async () => {
  postgres = await startPostgres();
  registry = createMemoryRegistry({ webhookSecret });
}, 120_000);

afterAll(async () => {
  for (const composed of composedAll) await composed.dispose();
  for (const store of stores) await store.dispose();
  await postgres?.stop();
});

const deployPath = '/api/projects/web-app/stages/dev/deploy';
const withKey = (key: string, body: unknown): RequestInit => {
  const init = post(tokens.deploy, body);
  return { ...init, headers: { ...(init.headers as Record<string, string>), 'idempotency-key': key } };
};

describe('Idempotency-Key across two replicas on PostgreSQL', () => {
  it('answers a retry sent to the other replica with the first answer, and acts once', async () => {
    const [a, b] = [await replica(), await replica()];
    registry.push('team/web-app', 'dev-1', digest(1));
    const first = await a.app.request(deployPath, withKey('retry-1', { tag: 'dev-1' }));
    expect(first.status).toBe(202);
    const firstBody = await first.text();
    const again = await b.app.request(deployPath, withKey('retry-1', { tag: 'dev-1' }));
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotency-replayed')).toBe('true');
    expect(again.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await again.text()).toBe(firstBody);
    await Promise.all([a.composed.engine.idle(), b.composed.engine.idle()]);
    const deploys = await stores[0]!.listDeploys({ project: 'web-app', stage: 'dev' });
    expect(deploys.map((deploy) => deploy.id)).toEqual([JSON.parse(firstBody).deploy.id]);

    // The same key with another body, on either replica: a 409 that acts on nothing.
    const other = await b.app.request(deployPath, withKey('retry-1', { tag: 'dev-2' }));
    expect(other.status).toBe(409);
    expect(await other.json()).toMatchObject({ error: { code: 'CONFLICT' } });
    expect(await stores[0]!.listDeploys({ project: 'web-app', stage: 'dev' })).toHaveLength(1);
  });

  it('answers 409 with Retry-After to a retry while the first request runs on the other replica', async () => {
    // Two caches on two store connections, as two replicas' apps hold them; the first request's
    // action waits until the test lets it finish.
    const caches = [
      createIdempotencyCache({ store: storeOnPostgres() }),
      createIdempotencyCache({ store: storeOnPostgres() }),
    ];
    let acted = 0;
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const apps = caches.map((cache) => {
      const app = new Hono();
      app.onError(errorHandler(createMemoryLogger()));
      app.post('/act', (c) =>
        cache.run({ caller: 'ci', key: 'concurrent-1', method: 'POST', path: '/act', c }, async () => {
          acted += 1;
          if (acted === 1) await held;
          return c.json({ acted }, 202);
        }),
      );
      return app;
    });
    const body = { method: 'POST', body: '{"n":1}' };
    const first = apps[0]!.request('/act', body);
    await expect.poll(() => acted, { timeout: 60_000 }).toBe(1);
    const during = await apps[1]!.request('/act', body);
    expect(during.status).toBe(409);
    expect(during.headers.get('retry-after')).toBe('1');
    expect(((await during.json()) as { error: { message: string } }).error.message).toMatch(/still running/);
    release();
    expect(await (await first).json()).toEqual({ acted: 1 });
    const after = await apps[1]!.request('/act', body);
    expect(after.status).toBe(202);
    expect(await after.json()).toEqual({ acted: 1 });
    expect(acted).toBe(1);
  });
});
