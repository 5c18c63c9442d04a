import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type CoreError, isCoreError } from '../errors.ts';
import { headersOf } from './headers.ts';
import { httpStatusError } from './status-error.ts';
import { createHttpTransport, type HttpTransportOptions, responseJson, responseText } from './transport.ts';

/** A request as a test server got it. */
interface Seen {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

type Handler = (request: Seen, response: ServerResponse) => void;

const token = 'Bearer tok-do-not-leak-1234';
const queryToken = 'query-do-not-leak-5678';
const servers: Server[] = [];
const lifetimes: AbortController[] = [];

/** Reads each request whole, records it, then lets `handle` answer (or not). */
function recording(seen: Seen[], handle: Handler): RequestListener {
  return (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const request = {
        method: incoming.method ?? '',
        path: incoming.url ?? '',
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString(),
      };
      seen.push(request);
      handle(request, outgoing);
    });
  };
}

async function listen(server: Server, where: string | number): Promise<void> {
  servers.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (typeof where === 'string') server.listen(where, resolve);
    else server.listen(where, '127.0.0.1', resolve);
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

async function serve(handle: Handler, make: (listener: RequestListener) => Server = createServer) {
  const seen: Seen[] = [];
  const server = make(recording(seen, handle));
  await listen(server, 0);
  const { port } = server.address() as AddressInfo;
  const scheme = make === createServer ? 'http' : 'https';
  return { origin: `${scheme}://127.0.0.1:${port}`, seen, close: () => closeServer(server) };
}

const answer =
  (status: number, body = '', headers: Record<string, string> = {}): Handler =>
  (_request, response) => {
    response.writeHead(status, headers);
    response.end(body);
  };

const hang: Handler = () => undefined;

function transport(origin: string, more: Partial<HttpTransportOptions> = {}) {
  const lifetime = new AbortController();
  lifetimes.push(lifetime);
  const http = createHttpTransport({
    identity: { id: 'test:http', url: origin },
    timeoutMs: 30_000,
    lifetime: lifetime.signal,
    ...more,
  });
  return { http, lifetime };
}

async function failure(promise: Promise<unknown>): Promise<CoreError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!isCoreError(error)) throw new Error(`expected a CoreError, got ${String(error)}`);
  return error;
}

/** Neither the authorization value nor the URL's query shows in the error, its details or JSON. */
function expectNoSecrets(error: CoreError): void {
  const texts = [error.message, JSON.stringify(error), JSON.stringify(error.details)];
  for (const text of texts) {
    expect(text).not.toContain(token);
    expect(text).not.toContain(queryToken);
  }
}

afterEach(async () => {
  for (const lifetime of lifetimes.splice(0)) lifetime.abort();
  await Promise.all(servers.splice(0).map(closeServer));
});

describe('createHttpTransport', () => {
  it('sends GET, HEAD and POST with json or a body, and reads the answer', async () => {
    const server = await serve((request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'x-echo': request.method });
      response.end(JSON.stringify({ method: request.method, body: request.body }));
    });
    const { http } = transport(server.origin, { userAgent: 'dw-test' });
    const url = new URL('/things?page=2', server.origin);

    const got = await http.request({ url, what: 'things' });
    expect(got.status).toBe(200);
    expect(got.headers.get('X-Echo')).toBe('GET');
    expect(responseJson(got)).toEqual({ method: 'GET', body: '' });
    expect(got.url.href).toBe(url.href);

    const head = await http.request({ url, method: 'HEAD', what: 'things' });
    expect(head.status).toBe(200);
    expect(head.body.byteLength).toBe(0);

    const posted = await http.request({ url, method: 'POST', json: { a: 1 }, what: 'a thing' });
    expect(responseJson(posted)).toEqual({ method: 'POST', body: '{"a":1}' });

    const raw = await http.request({
      url,
      method: 'PUT',
      body: 'plain words',
      headers: { 'content-type': 'text/plain' },
      what: 'a thing',
    });
    expect(responseText(raw)).toContain('plain words');

    const [get, headSeen, post, put] = server.seen;
    expect(get).toMatchObject({ method: 'GET', path: '/things?page=2', body: '' });
    expect(get?.headers['user-agent']).toBe('dw-test');
    expect(headSeen?.method).toBe('HEAD');
    expect(post?.headers).toMatchObject({ 'content-type': 'application/json', 'content-length': '7' });
    expect(put?.headers).toMatchObject({ 'content-type': 'text/plain', 'content-length': '11' });
  });

  it('refuses a body over maxBodyBytes, declared or streamed, with BAD_RESPONSE, or truncates it', async () => {
    const server = await serve((request, response) => {
      if (request.path === '/declared') {
        response.writeHead(200, { 'content-length': '100' });
        response.end('x'.repeat(100));
        return;
      }
      // No content-length: the body streams in chunks until it is over the limit.
      response.writeHead(200);
      response.write('x'.repeat(60));
      response.end('y'.repeat(60));
    });
    const { http } = transport(server.origin);
    for (const path of ['/declared', '/streamed']) {
      const error = await failure(
        http.request({ url: new URL(path, server.origin), maxBodyBytes: 64, what: 'a big thing' }),
      );
      expect(error).toMatchObject({ code: 'BAD_RESPONSE', details: { limit: 64 } });
    }
    // With partialBody the status stands, with the first bytes of the body.
    for (const [path, kept] of [
      ['/declared', 'x'.repeat(64)],
      ['/streamed', `${'x'.repeat(60)}yyyy`],
    ] as const) {
      const url = new URL(path, server.origin);
      const cut = await http.request({ url, maxBodyBytes: 64, partialBody: true, what: 'a big thing' });
      expect(cut.status).toBe(200);
      expect(responseText(cut)).toBe(kept);
    }
    const fits = await http.request({
      url: new URL('/streamed', server.origin),
      maxBodyBytes: 120,
      what: 'x',
    });
    expect(fits.body.byteLength).toBe(120);
  });

  it('maps an answer cut off mid-body to a retryable BAD_RESPONSE, unless partialBody', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': '1000' });
      response.write('x'.repeat(10), () => response.socket?.destroy());
    });
    const { http } = transport(server.origin);
    const error = await failure(http.request({ url: new URL('/cut', server.origin), what: 'a thing' }));
    expect(error).toMatchObject({ code: 'BAD_RESPONSE', retryable: true });

    // With partialBody the status stands, with what arrived of the body.
    const kept = await http.request({
      url: new URL('/cut', server.origin),
      partialBody: true,
      what: 'a thing',
    });
    expect(kept.status).toBe(200);
    expect(responseText(kept)).toBe('x'.repeat(10));
  });

  it('gives up with TIMEOUT when the body stops coming, also with partialBody', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': '1000' });
      response.write('x'.repeat(10));
    });
    const { http } = transport(server.origin);
    const error = await failure(
      http.request({
        url: new URL('/stalls', server.origin),
        timeoutMs: 300,
        partialBody: true,
        what: 'a thing',
      }),
    );
    expect(error).toMatchObject({ code: 'TIMEOUT' });
  });

  it('gives up with TIMEOUT when the server never answers', async () => {
    const server = await serve(hang);
    const { http } = transport(server.origin);
    const url = new URL(`/slow?token=${queryToken}`, server.origin);
    const error = await failure(http.request({ url, timeoutMs: 200, authorization: token, what: 'a thing' }));
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true, details: { timeoutMs: 200 } });
    expectNoSecrets(error);
  });

  it("stops with ABORTED when the caller's signal fires", async () => {
    const server = await serve(hang);
    const { http } = transport(server.origin);
    const controller = new AbortController();
    const pending = failure(
      http.request({ url: new URL('/slow', server.origin), signal: controller.signal, what: 'a thing' }),
    );
    await expect.poll(() => server.seen.length, { timeout: 30_000 }).toBe(1);
    controller.abort();
    expect(await pending).toMatchObject({ code: 'ABORTED' });
  });

  it('is UNAVAILABLE for good once its lifetime is aborted, also for a request in flight', async () => {
    const server = await serve(hang);
    const { http, lifetime } = transport(server.origin);
    const pending = failure(http.request({ url: new URL('/slow', server.origin), what: 'a thing' }));
    await expect.poll(() => server.seen.length, { timeout: 30_000 }).toBe(1);
    lifetime.abort();
    expect(await pending).toMatchObject({ code: 'UNAVAILABLE', retryable: false });

    const later = await failure(http.request({ url: new URL('/later', server.origin), what: 'a thing' }));
    expect(later).toMatchObject({ code: 'UNAVAILABLE', retryable: false });
    expect(server.seen).toHaveLength(1);
  });

  it('maps a refused connection to UNAVAILABLE naming ECONNREFUSED, without secrets', async () => {
    const server = await serve(hang);
    await server.close();
    const { http } = transport(server.origin);
    const url = new URL(`/x?token=${queryToken}`, server.origin);
    const error = await failure(http.request({ url, authorization: token, what: 'a thing' }));
    expect(error).toMatchObject({
      code: 'UNAVAILABLE',
      retryable: true,
      details: { reason: 'ECONNREFUSED' },
    });
    expect(error.message).toContain('ECONNREFUSED');
    expectNoSecrets(error);
  });
});

describe('redirects', () => {
  it('follows them by default; 303 and a POST after 301/302 become a body-less GET', async () => {
    const server = await serve((request, response) => {
      const hop = /^\/(\d{3})$/.exec(request.path);
      if (hop) {
        response.writeHead(Number(hop[1]), { location: '/landed' });
        response.end();
        return;
      }
      answer(200, `landed by ${request.method}`)(request, response);
    });
    const { http } = transport(server.origin);
    const post = (path: string) =>
      http.request({ url: new URL(path, server.origin), method: 'POST', json: { a: 1 }, what: 'a thing' });

    const followed = await http.request({ url: new URL('/302', server.origin), what: 'a thing' });
    expect(followed.status).toBe(200);
    expect(followed.url.pathname).toBe('/landed');

    for (const status of ['303', '301', '302']) {
      expect(responseText(await post(`/${status}`))).toBe('landed by GET');
    }
    expect(responseText(await post('/307'))).toBe('landed by POST');

    const landings = server.seen.filter((request) => request.path === '/landed');
    const [get303, get301, get302, post307] = landings.slice(1);
    for (const turned of [get303, get301, get302]) {
      expect(turned).toMatchObject({ method: 'GET', body: '' });
      expect(turned?.headers['content-type']).toBeUndefined();
      expect(turned?.headers['content-length']).toBeUndefined();
    }
    expect(post307).toMatchObject({ method: 'POST', body: '{"a":1}' });
  });

  it('sends the authorization to a redirect on the same origin, never to another origin', async () => {
    const other = await serve(answer(200, 'elsewhere'));
    const server = await serve((request, response) => {
      if (request.path === '/away') {
        response.writeHead(302, { location: `${other.origin}/taken` });
        response.end();
      } else if (request.path === '/near') {
        response.writeHead(302, { location: '/kept' });
        response.end();
      } else answer(200, 'here')(request, response);
    });
    const { http } = transport(server.origin);

    await http.request({ url: new URL('/near', server.origin), authorization: token, what: 'a thing' });
    expect(server.seen.map((request) => request.headers.authorization)).toEqual([token, token]);

    const away = await http.request({
      url: new URL('/away', server.origin),
      authorization: token,
      what: 'x',
    });
    expect(responseText(away)).toBe('elsewhere');
    expect(server.seen.at(-1)?.headers.authorization).toBe(token);
    expect(other.seen).toHaveLength(1);
    expect(other.seen[0]?.headers.authorization).toBeUndefined();
  });

  it('takes neither a body nor caller headers to another origin', async () => {
    const other = await serve(answer(200, 'elsewhere'));
    const server = await serve((request, response) => {
      const status = request.path === '/login' ? 307 : 302;
      response.writeHead(status, { location: `${other.origin}/taken` });
      response.end();
    });
    const { http } = transport(server.origin);

    // A 307 keeps the method and body: a login's password would go along. It is not sent there.
    const login = http.request({
      url: new URL('/login', server.origin),
      method: 'POST',
      json: { identity: 'admin', secret: 'password-do-not-leak' },
      what: 'a login',
    });
    expect(await failure(login)).toMatchObject({ code: 'BAD_RESPONSE', details: { status: 307 } });
    expect(other.seen).toHaveLength(0);

    await http.request({
      url: new URL('/read', server.origin),
      headers: { accept: 'application/json', 'x-api-token': 'header-do-not-leak' },
      what: 'a thing',
    });
    expect(other.seen).toHaveLength(1);
    expect(other.seen[0]?.headers.accept).toBe('application/json');
    expect(other.seen[0]?.headers['x-api-token']).toBeUndefined();
    expect(server.seen.at(-1)?.headers['x-api-token']).toBe('header-do-not-leak');
  });

  it('gives up after 5 hops with BAD_RESPONSE', async () => {
    const server = await serve((request, response) => {
      response.writeHead(302, { location: `/loop${server.seen.length}?token=${queryToken}` });
      response.end(request.path);
    });
    const counters = { requests: 0 };
    const { http } = transport(server.origin, { counters });
    const url = new URL(`/loop?token=${queryToken}`, server.origin);
    const error = await failure(http.request({ url, authorization: token, what: 'a thing' }));
    expect(error).toMatchObject({ code: 'BAD_RESPONSE', details: { status: 302 } });
    expect(server.seen).toHaveLength(6);
    expect(counters.requests).toBe(6);
    expectNoSecrets(error);
  });

  it("returns the 3xx itself with redirects: 'refuse'", async () => {
    const server = await serve(answer(307, 'moved', { location: '/elsewhere' }));
    const refusing = transport(server.origin, { redirects: 'refuse' }).http;
    const refused = await refusing.request({ url: new URL('/here', server.origin), what: 'a thing' });
    expect(refused.status).toBe(307);
    expect(refused.headers.get('location')).toBe('/elsewhere');

    const following = transport(server.origin).http;
    const perRequest = await following.request({
      url: new URL('/here', server.origin),
      redirects: 'refuse',
      what: 'a thing',
    });
    expect(perRequest.status).toBe(307);
    expect(server.seen.map((request) => request.path)).toEqual(['/here', '/here']);
  });
});

describe('where requests go', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'dw-http-transport-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sends every request to socketPath when given one', async () => {
    const seen: Seen[] = [];
    const socketPath = join(dir, 'admin.sock');
    await listen(createServer(recording(seen, answer(200, 'over the socket'))), socketPath);
    const { http } = transport('unix:admin.sock', { socketPath });
    const got = await http.request({ url: new URL('http://localhost/config/'), what: 'the config' });
    expect(responseText(got)).toBe('over the socket');
    expect(seen[0]?.path).toBe('/config/');
  });

  it('speaks TLS with a private CA, a client certificate and a server name', async () => {
    const pki = makePki(dir);
    const server = await serve(
      (request, response) => {
        const peer = (response.socket as TLSSocket).getPeerCertificate();
        answer(200, `hello ${peer.subject?.CN}`)(request, response);
      },
      (listener) =>
        createTlsServer(
          {
            ca: pki.ca,
            cert: pki.serverCert,
            key: pki.serverKey,
            requestCert: true,
            rejectUnauthorized: true,
          },
          listener,
        ),
    );
    const tls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey, serverName: 'api.private.test' };
    const { http } = transport(server.origin, { tls });
    const got = await http.request({ url: new URL('/v1/status', server.origin), what: 'the status' });
    expect(responseText(got)).toBe('hello client.private.test');
    http.close();

    // Without the CA the server's certificate is not trusted: no answer, UNAVAILABLE.
    const untrusting = transport(server.origin, { tls: { ...tls, ca: undefined } }).http;
    const error = await failure(untrusting.request({ url: new URL('/v1/status', server.origin), what: 'x' }));
    expect(error.code).toBe('UNAVAILABLE');
    untrusting.close();
  });
});

describe('httpStatusError', () => {
  const identity = { id: 'test:http', url: 'http://service.test' };
  const status = (code: number, headers: string[] = []) => ({ status: code, headers: headersOf(headers) });

  it('maps statuses onto codes naming the adapter and the operation', () => {
    const limited = httpStatusError(identity, status(429, ['Retry-After', '7']), 'tags of a/b');
    expect(limited).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 7000 });
    expect(limited.details).toMatchObject({ adapter: 'test:http', status: 429, retryAfterMs: 7000 });
    expect(limited.message).toContain('tags of a/b');

    for (const [code, expected, retryable] of [
      [401, 'UNAUTHORIZED', false],
      [403, 'FORBIDDEN', false],
      [404, 'NOT_FOUND', false],
      [500, 'UNAVAILABLE', true],
      [503, 'UNAVAILABLE', true],
      [204, 'BAD_RESPONSE', false],
    ] as const) {
      const error = httpStatusError(identity, status(code), 'tags of a/b', { details: { repo: 'a/b' } });
      expect(error).toMatchObject({ code: expected, retryable, details: { status: code, repo: 'a/b' } });
      expect(error.message).toContain('test:http');
    }

    const saidSo = httpStatusError(identity, status(403), 'x', { rateLimited: true });
    expect(saidSo.code).toBe('RATE_LIMITED');
    expect(saidSo.retryAfterMs).toBeUndefined();
  });
});

/** A throwaway CA, a server certificate for `api.private.test` only, and a client certificate. */
function makePki(dir: string) {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl('req', '-x509', ...newKey, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=CA');
  for (const [name, extensions] of [
    ['server', 'subjectAltName=DNS:api.private.test\nextendedKeyUsage=serverAuth\n'],
    ['client', 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    openssl(
      'req',
      ...newKey,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}.private.test`,
    );
    writeFileSync(join(dir, `${name}.ext`), extensions);
    const sign = ['-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2'];
    openssl('x509', '-req', '-in', `${name}.csr`, ...sign, '-out', `${name}.pem`, '-extfile', `${name}.ext`);
  }
  const read = (name: string) => readFileSync(join(dir, name), 'utf8');
  return {
    ca: read('ca.pem'),
    serverCert: read('server.pem'),
    serverKey: read('server.key'),
    clientCert: read('client.pem'),
    clientKey: read('client.key'),
  };
}
