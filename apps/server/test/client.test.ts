// The typed client against the server over real HTTP: typed calls, errors with the server's facts,
// idempotent retries, and the event stream.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ApiClient, ApiError, createApiClient } from '../src/client.ts';
import { digest, type Harness, harness, tokens } from './support.ts';

let h: Harness;
let server: Server;
let client: ApiClient;
const repo = 'team/web-app';
const dev = { id: 'web-app', stage: 'dev' };

beforeEach(async () => {
  h = await harness();
  server = serve({ fetch: h.app.fetch, hostname: '127.0.0.1', port: 0 }) as Server;
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  client = createApiClient({ baseUrl: `http://127.0.0.1:${port}`, token: tokens.deploy, validate: true });
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await h?.close();
});

describe('the typed client', () => {
  it('reads and acts through one method per route, answers parsed by their schemas', async () => {
    const { projects } = await client.listProjects();
    expect(projects.map((project) => project.id)).toEqual(['web-app']);
    h.registry.push(repo, 'dev-1', digest(1));
    const { deploy } = await client.deployStage({ params: dev, body: { tag: 'dev-1' } });
    expect(deploy).toMatchObject({ release: { tag: 'dev-1' }, trigger: 'manual', by: 'deployer' });
    await h.composed.engine.idle();
    const stage = await client.getStage({ params: dev });
    expect(stage.actual).toEqual({ tag: 'dev-1', digest: digest(1) });
    const { deploys, next } = await client.listDeploys({
      query: { project: 'web-app', state: ['succeeded'] },
    });
    expect(deploys.map((d) => d.id)).toEqual([deploy.id]);
    expect(next).toBeNull();
  });

  it('throws ApiError with the status, code, fields and what was not found', async () => {
    const missing = await client
      .getProject({ params: { id: 'no such/app' } })
      .catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      notFound: { kind: 'project', name: 'no such/app' },
    });
    const bad = await client.listDeploys({ query: { limit: 0 } }).catch((error: unknown) => error);
    expect(bad).toMatchObject({ status: 400, code: 'BAD_REQUEST', fields: [{ path: 'limit' }] });
  });

  it('retries a POST with an Idempotency-Key without acting twice', async () => {
    h.registry.push(repo, 'dev-1', digest(1));
    h.registry.push(repo, 'dev-2', digest(2));
    const first = await client.deployStage({ params: dev, body: { tag: 'dev-1' }, idempotencyKey: 'k-1' });
    await h.composed.engine.idle();
    const again = await client.deployStage({ params: dev, body: { tag: 'dev-1' }, idempotencyKey: 'k-1' });
    expect(again.deploy.id).toBe(first.deploy.id);
    expect(await h.store.listDeploys({ project: 'web-app', stage: 'dev' })).toHaveLength(1);
    const reused = await client
      .deployStage({ params: dev, body: { tag: 'dev-2' }, idempotencyKey: 'k-1' })
      .catch((error: unknown) => error);
    expect(reused).toMatchObject({ status: 409, code: 'CONFLICT' });
  });

  it('follows the event stream, typed, and resumes after an event id', async () => {
    const controller = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const message of client.streamEvents({ signal: controller.signal })) {
        seen.push(message.data && 'type' in message.data ? message.data.type : message.event);
        if (seen.includes('deploy:succeeded')) break;
      }
    })();
    await new Promise((resolve) => setTimeout(resolve, 100));
    h.registry.push(repo, 'dev-1', digest(1));
    await client.deployStage({ params: dev, body: { tag: 'dev-1' } });
    await reading;
    expect(seen).toEqual(expect.arrayContaining(['deploy:queued', 'deploy:started', 'deploy:succeeded']));
    expect(seen).not.toContain('deploy:log');
    const resumed: string[] = [];
    for await (const message of client.streamEvents({
      lastEventId: 1,
      query: { types: ['deploy:succeeded'] },
    })) {
      resumed.push(message.event);
      break;
    }
    expect(resumed).toEqual(['deploy:succeeded']);
  });
});
