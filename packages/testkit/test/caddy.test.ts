import { existsSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CaddyInstance, freePort, isTestkitError, startCaddy, type TestkitError } from '../src/index.ts';

async function caught(promise: Promise<unknown>): Promise<TestkitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTestkitError(error), `expected a TestkitError, got ${String(error)}`).toBe(true);
  return error as TestkitError;
}

async function admin(caddy: CaddyInstance, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${caddy.adminUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', connection: 'close' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

function getThrough(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path: '/', headers: { host }, agent: false },
      (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function routeTo(host: string, port: number): unknown {
  return {
    match: [{ host: [host] }],
    handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: `127.0.0.1:${port}` }] }],
    terminal: true,
  };
}

describe('startCaddy', () => {
  let caddy: CaddyInstance;
  let upstream: Server;
  let upstreamPort: number;
  beforeAll(async () => {
    caddy = await startCaddy({ https: true });
    upstream = createServer((_req, res) => res.end('from upstream'));
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    upstreamPort = (upstream.address() as { port: number }).port;
  });
  afterAll(async () => {
    await caddy?.stop();
    await new Promise((resolve) => upstream?.close(resolve));
  });

  it('serves the admin API and one plain-HTTP server with automatic HTTPS disabled', async () => {
    const server = (await (
      await admin(caddy, 'GET', `/config/apps/http/servers/${caddy.serverName}`)
    ).json()) as {
      listen: string[];
      automatic_https: { disable: boolean };
    };
    expect(server.listen).toEqual([`127.0.0.1:${caddy.httpPort}`]);
    expect(server.automatic_https.disable).toBe(true);
    expect(caddy.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('routes a host added through the admin API', async () => {
    const added = await admin(
      caddy,
      'POST',
      `/config/apps/http/servers/${caddy.serverName}/routes`,
      routeTo('plain.testkit.test', upstreamPort),
    );
    expect(added.status).toBe(200);
    const response = await getThrough(caddy.httpPort, 'plain.testkit.test');
    expect(response).toEqual({ status: 200, body: 'from upstream' });
  });

  it('serves HTTPS from its internal CA on the TLS server', async () => {
    expect(caddy.httpsPort).toBeTypeOf('number');
    await admin(
      caddy,
      'POST',
      `/config/apps/http/servers/${caddy.httpsServerName}/routes`,
      routeTo('tls.testkit.test', upstreamPort),
    );
    // The certificate is obtained in the background after the load: a few tries.
    let body = '';
    for (let attempt = 0; attempt < 50 && body === ''; attempt++) {
      body = await new Promise<string>((resolve) => {
        const req = request(
          {
            host: '127.0.0.1',
            port: caddy.httpsPort,
            path: '/',
            servername: 'tls.testkit.test',
            headers: { host: 'tls.testkit.test' },
            rejectUnauthorized: false,
          },
          (res) => {
            let text = '';
            res.on('data', (chunk) => {
              text += chunk;
            });
            res.on('end', () => resolve(text));
          },
        );
        req.on('error', () => setTimeout(() => resolve(''), 100));
        req.end();
      });
    }
    expect(body).toBe('from upstream');
  });

  it('keeps storage and home in its own folder and logs there', () => {
    expect(existsSync(`${caddy.dir}/caddy.json`)).toBe(true);
    expect(caddy.logs()).toContain('serving initial configuration');
  });
});

describe('startCaddy bad states', () => {
  it('missing binary without root', async () => {
    const error = await caught(startCaddy({ binary: '/nonexistent/caddy', root: false }));
    expect(error.message).toContain('/nonexistent/caddy is missing');
    expect(error.message).toContain('needs root');
    expect(error.hint).toMatch(/apt-get install -y caddy/);
  });

  it('a port in use', async () => {
    const busy = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve));
    try {
      const error = await caught(startCaddy({ httpPort: port }));
      expect(error.message).toContain(`Port ${port} on 127.0.0.1 is in use`);
      expect(error.message).toContain('Caddy HTTP server');
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it('Caddy exiting at start, with its last log lines', async () => {
    const error = await caught(
      startCaddy({
        configure: (config) => ({
          ...config,
          apps: { ...(config.apps as object), http: { servers: { broken: { listen: ['not a port'] } } } },
        }),
      }),
    );
    expect(error.message).toMatch(/Caddy exited with code \d+ at start/);
    expect(error.message).toContain('Last log lines');
    expect(error.message).toMatch(/not a port|listen/);
  });

  it('stop is idempotent and removes the folder', async () => {
    const caddy = await startCaddy();
    await caddy.stop();
    await caddy.stop();
    expect(existsSync(caddy.dir)).toBe(false);
  });
});
