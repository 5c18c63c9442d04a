// The dashboard's build served at `/`: files by exact path with the right caching, the page for
// page paths, and never in the way of the API, probes, metrics or the registrywatcher routes.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/http/app.ts';
import { auth, type Harness, harness, tokens } from './support.ts';

const page =
  '<!doctype html><html><head><title>Docker Watcher</title></head><body>dashboard page</body></html>';
const script = `export const app = ${JSON.stringify('x'.repeat(4000))};\n`;

let h: Harness;
let dir: string;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  h = await harness({ start: false });
  dir = mkdtempSync(join(tmpdir(), 'dw-dashboard-build-'));
  mkdirSync(join(dir, '_app/immutable'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), page);
  writeFileSync(join(dir, '_app/immutable/bundle.AbC123.js'), script);
  writeFileSync(join(dir, '_app/version.json'), '{"version":"1"}');
  writeFileSync(join(dir, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  app = createApp(h.composed, { dashboardDir: dir });
});
afterAll(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard at /', () => {
  it('answers page paths with its page, revalidated each time and never framed', async () => {
    for (const path of ['/', '/login', '/projects/web-app', '/projects/web-app/stages/dev', '/deploys/x1']) {
      const response = await app.request(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(await response.text()).toBe(page);
    }
  });

  it('serves content-hashed files as immutable and the rest as revalidated, compressed when asked', async () => {
    const asset = await app.request('/_app/immutable/bundle.AbC123.js', {
      headers: { 'accept-encoding': 'gzip' },
    });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-encoding')).toBe('gzip');
    expect(gunzipSync(Buffer.from(await asset.arrayBuffer())).toString()).toBe(script);

    const brotli = await app.request('/_app/immutable/bundle.AbC123.js', {
      headers: { 'accept-encoding': 'gzip, deflate, br' },
    });
    expect(brotli.headers.get('content-encoding')).toBe('br');

    const version = await app.request('/_app/version.json');
    expect(version.headers.get('cache-control')).toBe('no-cache');
    expect(await version.text()).toBe('{"version":"1"}');
    const icon = await app.request('/favicon.svg');
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
  });

  it('answers 304 to a revalidation with the same ETag', async () => {
    const first = await app.request('/');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await app.request('/settings', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
  });

  it('answers HEAD like GET, without a body', async () => {
    const response = await app.request('/approvals', { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await response.text()).toBe('');
  });

  it('never answers a missing file with the page: a script must not get HTML', async () => {
    for (const path of ['/_app/immutable/missing.js', '/_app/nothing', '/robots.txt']) {
      const response = await app.request(path);
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    }
  });

  it('never reads outside its folder', async () => {
    writeFileSync(join(dir, '..', 'dw-dashboard-outside.txt'), 'secret');
    try {
      for (const path of [
        '/../dw-dashboard-outside.txt',
        '/_app/../../dw-dashboard-outside.txt',
        '/%2e%2e/x.txt',
      ]) {
        const response = await app.request(path);
        expect(await response.text()).not.toContain('secret');
      }
    } finally {
      rmSync(join(dir, '..', 'dw-dashboard-outside.txt'), { force: true });
    }
  });

  it('never shadows the API, probes, metrics or the registrywatcher routes', async () => {
    const json = async (path: string, init?: RequestInit) => {
      const response = await app.request(path, init);
      return {
        status: response.status,
        type: response.headers.get('content-type') ?? '',
        body: await response.text(),
      };
    };
    // Unknown paths under the reserved prefixes stay JSON 404s.
    for (const path of [
      '/api',
      '/api/',
      '/api/nope',
      '/api/projects/web-app/nope',
      '/tags',
      '/repos/x',
      '/metrics/x',
    ]) {
      const answer = await json(path);
      expect(answer.status, path).toBe(404);
      expect(answer.type, path).toContain('application/json');
    }
    // The real routes still answer as themselves.
    expect((await json('/healthz')).body).toBe('{"status":"ok"}');
    expect((await json('/readyz')).status).toBe(200);
    expect((await json('/metrics')).type).toContain('text/plain');
    expect((await json('/ping')).status).toBe(200);
    expect((await json('/api/projects', { headers: auth(tokens.read) })).body).toContain('"web-app"');
    expect((await json('/api/projects')).status).toBe(401);
    expect((await json('/repos', { headers: auth(tokens.read) })).status).toBe(200);
    // Only GET and HEAD reach the dashboard.
    expect((await json('/login', { method: 'POST' })).status).toBe(404);
  });

  it('says how to build it when the server has no build', async () => {
    const bare = createApp(h.composed, { dashboardDir: join(dir, 'missing') });
    const response = await bare.request('/');
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
      'pnpm --filter @docker-watcher/dashboard build',
    );
    expect((await bare.request('/healthz')).status).toBe(200);
  });
});
