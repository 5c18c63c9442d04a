// Requests anyone can send without credentials, as the hardening report (issue #16, items 7–9 and
// 15) found them: huge bodies before authentication, made-up webhook sources, prototype names in
// URLs, bodies that are not JSON, and a client that never finishes its request.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryLogger, createMemoryWebhookRequest } from '@docker-watcher/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiBodyLimit } from '../src/http/app.ts';
import { type RunningServer, startServer } from '../src/serve.ts';
import { auth, digest, type Harness, harness, post, tokens, webhookSecret } from './support.ts';

let h: Harness;
beforeEach(async () => {
  h = await harness();
});
afterEach(async () => {
  await h?.close();
});

const repo = 'team/web-app';
const big = () => JSON.stringify({ username: 'alice', password: 'x'.repeat(apiBodyLimit + 1) });
const codeOf = async (response: Response) =>
  ((await response.json()) as { error: { code: string } }).error.code;
const metrics = async () => (await h.app.request('/metrics')).text();

describe('a body over the limit', () => {
  it('is refused with 413 before authentication, on the login and on every API route', async () => {
    for (const path of ['/api/auth/login', '/api/projects/web-app/stages/dev/deploy']) {
      const response = await h.app.request(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: big(),
      });
      expect(response.status, path).toBe(413);
      expect(await response.json()).toEqual({
        error: { code: 'BAD_REQUEST', message: `The body is larger than ${apiBodyLimit} bytes (too large)` },
      });
    }
    // Under the limit the same routes answer as before: the login refuses, the deploy wants a token.
    const small = await h.app.request('/api/projects/web-app/stages/dev/deploy', post(undefined, {}));
    expect(small.status).toBe(401);
  });
});

describe('an unknown webhook source', () => {
  it('is a 404 that leaves no metrics series, whatever its name', async () => {
    const before = await metrics();
    for (const source of ['made-up-1', 'made-up-2', '__proto__', 'constructor', 'toString']) {
      const response = await h.app.request(`/api/webhook/${source}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(response.status, source).toBe(404);
      expect(await codeOf(response)).toBe('NOT_FOUND');
    }
    const after = await metrics();
    expect(after).not.toMatch(/made-up|__proto__|constructor|toString/);
    expect(after.length).toBe(before.length);
  });
});

describe('a webhook body that is not JSON', () => {
  it('is refused with 415 before it is read; JSON media types of registries are taken', async () => {
    h.registry.push(repo, 'dev-7', digest(7));
    const request = createMemoryWebhookRequest({
      observations: [{ eventId: 'ct-1', action: 'pushed', repository: repo, tag: 'dev-7' }],
      secret: webhookSecret,
    });
    const send = (contentType: string | undefined) =>
      h.app.request('/api/webhook/registry', {
        method: 'POST',
        headers: {
          ...(request.headers as Record<string, string>),
          ...(contentType === undefined ? {} : { 'content-type': contentType }),
        },
        body: request.body,
      });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']) {
      const refused = await send(type);
      expect(refused.status, type).toBe(415);
      expect(await codeOf(refused)).toBe('UNSUPPORTED');
    }
    expect(await h.store.listRepositoryMarks()).toEqual([]);
    const taken = await send('application/vnd.docker.distribution.events.v2+json; charset=utf-8');
    expect(taken.status).toBe(202);
    expect(await taken.json()).toEqual({ accepted: 1 });
    expect(await metrics()).toContain(
      'docker_watcher_webhooks_total{source="registry",outcome="unsupported"} 3',
    );
  });
});

describe('prototype names in a URL', () => {
  const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty'];

  it('are no stage: 404 on reads and writes, and no row in stages or audit', async () => {
    for (const name of names) {
      const read = await h.app.request(`/api/projects/web-app/stages/${name}`, {
        headers: auth(tokens.read),
      });
      expect(read.status, name).toBe(404);
      const write = await h.app.request(
        `/api/projects/web-app/stages/${name}/auto-deploy`,
        post(tokens.deploy, { enabled: true }),
      );
      expect(write.status, name).toBe(404);
      expect(await codeOf(write)).toBe('NOT_FOUND');
    }
    const stages = (await h.store.listStages()).map((stage) => stage.stage);
    expect(stages.filter((stage) => names.includes(stage))).toEqual([]);
    expect(await h.store.listAudit()).toEqual([]);
  });

  it('are no stage and no registry to the engine either', async () => {
    for (const name of names) {
      await expect(
        h.composed.engine.setAutoDeploy({ project: 'web-app', stage: name, enabled: true }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(
        h.composed.engine.ingestWebhook({ registry: name, request: { headers: {}, body: new Uint8Array() } }),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    }
  });
});

describe('a client that never finishes its request', () => {
  let dir: string;
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('is cut off after the request timeout, not after Node’s 300 s', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dw-slow-'));
    const file = join(dir, 'config.yml');
    writeFileSync(
      file,
      `global:
  store: "memory:"
  target: { type: memory }
  poll_interval_seconds: 0
  server:
    listen: 127.0.0.1:0
    tokens: [{ name: ops, token_env: DW_TOKEN, scopes: [admin] }]
registries:
  local: { type: memory }
projects:
  web:
    registry: local
    image: registry.test/team/web
    stages: { dev: { tag_pattern: "dev-*" } }
`,
    );
    server = await startServer({
      configFile: file,
      env: { DW_TOKEN: 'slow-client-test-token-0123' },
      logger: createMemoryLogger(),
      port: 0,
      requestTimeoutMs: 500,
    });
    const socket = connect(server.port, '127.0.0.1');
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now())));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    // Headers promise 1000 bytes; one comes, then nothing.
    socket.write(
      'POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{',
    );
    const bound = new Promise<number>((resolve) => setTimeout(() => resolve(-1), 15_000));
    const at = await Promise.race([closed, bound]);
    socket.destroy();
    expect(at, 'the server closed the connection').toBeGreaterThan(0);
    expect(Buffer.concat(received).toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
  });
});
