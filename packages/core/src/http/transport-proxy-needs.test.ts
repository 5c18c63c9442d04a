import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isCoreError } from '../errors.ts';
import { createHttpTransport, type HttpTransportOptions } from './transport.ts';

// What the proxy adapters and the Docker health probe need of the transport beyond registry-oci.

const servers: Server[] = [];
const lifetime = new AbortController();
afterEach(() => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
});

async function listen(server: Server, scheme = 'http'): Promise<URL> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return new URL(`${scheme}://127.0.0.1:${port}/`);
}

const transport = (url: URL, more: Partial<HttpTransportOptions> = {}) =>
  createHttpTransport({
    identity: { id: 'proxy:test', url: url.origin },
    timeoutMs: 10_000,
    lifetime: lifetime.signal,
    ...more,
  });

describe('keepAlive: false', () => {
  const countingServer = () => {
    const server = createServer((_req, res) => res.end('ok'));
    let connections = 0;
    server.on('connection', () => {
      connections += 1;
    });
    return { server, connections: () => connections };
  };

  it('opens a fresh connection per request (Caddy restarts its admin server on a config load)', async () => {
    const { server, connections } = countingServer();
    const url = await listen(server);
    const http = transport(url, { keepAlive: false });
    for (let i = 0; i < 3; i++) expect((await http.request({ url, what: 'a call' })).status).toBe(200);
    expect(connections()).toBe(3);
    http.close();
  });

  it('keeps a connection by default', async () => {
    const { server, connections } = countingServer();
    const url = await listen(server);
    const http = transport(url);
    for (let i = 0; i < 3; i++) expect((await http.request({ url, what: 'a call' })).status).toBe(200);
    expect(connections()).toBe(1);
    http.close();
  });
});

describe('headOnly', () => {
  // A head, then a body that never ends: only a request that does not read it gets an answer.
  const endless: RequestListener = (_req, res) => {
    res.writeHead(200, { 'x-upstream': 'blue' });
    res.write(Buffer.alloc(64 * 1024));
  };

  it('answers with the status and headers, never reading the body', async () => {
    const url = await listen(createServer(endless));
    const http = transport(url);
    const answer = await http.request({ url, what: 'a probe', headOnly: true, maxBodyBytes: 16 });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('x-upstream')).toBe('blue');
    expect(answer.body.byteLength).toBe(0);
    http.close();
  });

  it('without it the same answer is a body over the limit', async () => {
    const url = await listen(createServer(endless));
    const http = transport(url);
    const error = await http.request({ url, what: 'a probe', maxBodyBytes: 16 }).catch((e: unknown) => e);
    expect(isCoreError(error, 'BAD_RESPONSE')).toBe(true);
    http.close();
  });
});

describe('tls.rejectUnauthorized: false', () => {
  it('accepts a certificate that does not verify, which is refused by default', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-transport-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=other.test',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const server = createHttpsServer(
        { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
        (_req, res) => res.end('ok'),
      );
      const url = await listen(server, 'https');
      const strict = transport(url);
      const refused = await strict.request({ url, what: 'a check' }).catch((e: unknown) => e);
      expect(isCoreError(refused, 'UNAVAILABLE')).toBe(true);
      strict.close();
      const lenient = transport(url, { tls: { rejectUnauthorized: false, serverName: 'a.example.com' } });
      expect((await lenient.request({ url, what: 'a check' })).status).toBe(200);
      lenient.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

it('names the network code right after "unreachable", then what the request was for', async () => {
  const server = createServer();
  const url = await listen(server);
  server.close();
  await new Promise((resolve) => server.once('close', resolve));
  const http = transport(url);
  const error = await http.request({ url, what: 'GET /config/' }).catch((e: unknown) => e);
  expect(isCoreError(error, 'UNAVAILABLE')).toBe(true);
  expect((error as Error).message).toBe(
    `proxy:test (${url.origin}) is unreachable (ECONNREFUSED) for GET /config/`,
  );
});

it('sends a Host the caller gives as given, an empty one too, over a Unix socket', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-transport-socket-'));
  const socketPath = join(dir, 'admin.sock');
  const hosts: Array<string | undefined> = [];
  const server = createServer((req, res) => {
    hosts.push(req.headers.host);
    res.end('{}');
  });
  servers.push(server);
  try {
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    const url = new URL('http://127.0.0.1/config/');
    const http = transport(url, { socketPath, keepAlive: false });
    expect((await http.request({ url, what: 'GET /config/', headers: { host: '' } })).status).toBe(200);
    expect((await http.request({ url, what: 'GET /config/', headers: { Host: 'a.test' } })).status).toBe(200);
    expect((await http.request({ url, what: 'GET /config/' })).status).toBe(200);
    expect(hosts).toEqual(['', 'a.test', '127.0.0.1']);
    http.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
