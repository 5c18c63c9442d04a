// The CLI against a server that answers outside the API's schemas (another program on the port, a
// server of another version): each command says what it asked and which field was wrong, and exits
// non-zero, instead of crashing or printing `undefined`.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { type Loopback, startLoopback } from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
const cli = join(root, 'apps/server/src/cli.ts');

/** A deploy record as the API's schema has it. */
const deploy = {
  id: 'd-1',
  project: 'web-app',
  stage: 'dev',
  revision: 1,
  release: { tag: 'dev-1', digest: `sha256:${'a'.repeat(64)}` },
  trigger: 'manual',
  state: 'pulling',
  finished: false,
  journal: [{ seq: 1, state: 'pending', at: '2026-01-01T00:00:00.000Z' }],
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};

let server: Loopback;

beforeAll(async () => {
  server = await startLoopback((request, response) => {
    const send = (body: string, type = 'application/json') => {
      response.writeHead(200, { 'content-type': type });
      response.end(body);
    };
    const path = request.url.pathname;
    // A project without its stages: the answer of a server that is not this CLI's.
    if (path === '/api/projects')
      return send(
        JSON.stringify({
          projects: [{ id: 'web-app', registry: 'hub', repository: 'team/web-app', image: null }],
        }),
      );
    if (path === '/api/projects/web-app') return send('<html>a proxy page</html>', 'text/html');
    if (path === '/api/approvals') return send(JSON.stringify({ approvals: [] }));
    if (path === '/api/deploys') return send(JSON.stringify({ deploys: [], next: null }));
    if (path === '/api/deploys/d-1') return send(JSON.stringify({ deploy }));
    // A log line whose number is text.
    if (path === '/api/deploys/d-1/logs')
      return send(
        'event: log\nid: 1\ndata: {"seq":"one","at":"2026-01-01T00:00:00.000Z","level":"info","line":"x"}\n\n',
        'text/event-stream',
      );
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end(JSON.stringify({ error: { code: 'NOT_FOUND', message: `no ${path}` } }));
  });
});
afterAll(async () => {
  await server?.close();
});

function run(args: string[]) {
  const child = spawn(process.execPath, ['--conditions=@docker-watcher/source', cli, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', DOCKER_WATCHER_URL: server.url },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}

describe('docker-watcher against an answer outside the schema', { timeout: 120_000 }, () => {
  it('status names what it asked and the wrong field, in words and in JSON, and exits 1', async () => {
    const words = await run(['status']);
    expect(words.code).toBe(1);
    expect(words.stdout).toBe('');
    expect(words.stderr).toMatch(
      new RegExp(
        `^BAD_RESPONSE: the server at ${server.url} answered GET /api/projects outside its schema: projects\\.0\\.stages: .+\\n$`,
      ),
    );
    const json = await run(['status', '--json']);
    expect(json.code).toBe(1);
    expect(json.stderr).toBe('');
    const body = JSON.parse(json.stdout) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('BAD_RESPONSE');
    expect(body.error.message).toContain('GET /api/projects outside its schema: projects.0.stages: ');
  });

  it('status of a project that answers with a page, not JSON, says so', async () => {
    const result = await run(['status', 'web-app']);
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(
      `BAD_RESPONSE: the server at ${server.url} answered GET /api/projects/web-app with something that is not JSON: is it Docker Watcher?\n`,
    );
  });

  it('logs stops at a log line outside the schema, without asking again', async () => {
    const before = server.requests.filter((r) => r.url.pathname === '/api/deploys/d-1/logs').length;
    const result = await run(['logs', 'd-1']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^BAD_RESPONSE: .* answered GET \/api\/deploys\/d-1\/logs outside its schema: /,
    );
    expect(result.stderr).toContain(
      'outside its schema: seq: Invalid type: Expected number but received "one"',
    );
    const after = server.requests.filter((r) => r.url.pathname === '/api/deploys/d-1/logs').length;
    expect(after - before).toBe(1);
  });
});
