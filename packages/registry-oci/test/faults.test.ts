// Faults and registry quirks a real distribution registry cannot be made to produce, against loopback fakes
// written from the shapes in distribution-spec (tags list, Link paging, challenges, token responses).
import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { inspect } from 'node:util';
import { type CoreError, createMemoryLogger, isCoreError } from '@docker-watcher/core';
import {
  type Loopback,
  type LoopbackHandler,
  type SeenRequest,
  sendJson,
  startLoopback,
} from '@docker-watcher/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createOciRegistry, type OciRegistryOptions } from '../src/index.ts';

const servers: Loopback[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(handler: LoopbackHandler): Promise<Loopback> {
  const server = await startLoopback(handler);
  servers.push(server);
  return server;
}

async function failure(action: Promise<unknown>): Promise<CoreError> {
  try {
    await action;
  } catch (error) {
    if (isCoreError(error)) return error;
    throw error;
  }
  throw new Error('expected a CoreError, but the call resolved');
}

const sha256 = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}`;
const tagNames = (count: number) =>
  Array.from({ length: count }, (_, index) => `t${String(index).padStart(3, '0')}`);
const registryCalls = (server: Loopback) =>
  server.requests.filter((request) => request.url.pathname.startsWith('/v2/'));

/** A tags list that pages the way distribution-spec describes: `n`, `last`, and a relative `Link`. */
function pagingTags(all: readonly string[], link: (next: URLSearchParams, request: SeenRequest) => string) {
  return (request: SeenRequest, response: ServerResponse) => {
    const n = Number(request.url.searchParams.get('n') ?? all.length);
    const last = request.url.searchParams.get('last');
    const start = last === null ? 0 : all.indexOf(last) + 1;
    const tags = all.slice(start, start + n);
    const more = start + n < all.length;
    const next = new URLSearchParams({ n: String(n), last: tags.at(-1) ?? '' });
    sendJson(response, 200, { name: 'team/app', tags }, more ? { link: link(next, request) } : {});
  };
}

describe('tag pagination', () => {
  it('follows relative Link headers across pages: 250 tags at a page size of 100 cost 3 requests', async () => {
    const all = tagNames(250);
    const server = await serve(pagingTags(all, (next) => `</v2/team/app/tags/list?${next}>; rel="next"`));
    const registry = createOciRegistry({ url: server.url, pageSize: 100 });
    const tags = await registry.listTags({ repository: 'team/app' });
    expect(tags).toEqual(all);
    expect(server.requests.map((request) => request.path)).toEqual([
      '/v2/team/app/tags/list?n=100',
      '/v2/team/app/tags/list?n=100&last=t099',
      '/v2/team/app/tags/list?n=100&last=t199',
    ]);
    expect(registry.stats().requests).toBe(3);
  });

  it('follows absolute links with opaque parameters exactly as given (Quay next_page)', async () => {
    const all = tagNames(30);
    const server = await serve((request, response) => {
      const token = request.url.searchParams.get('next_page');
      const start = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString());
      const tags = all.slice(start, start + 10);
      const next = Buffer.from(String(start + 10)).toString('base64url');
      const more = start + 10 < all.length;
      sendJson(
        response,
        200,
        { name: 'team/app', tags },
        more ? { link: `<${server.url}/v2/team/app/tags/list?next_page=${next}>; rel="next"` } : {},
      );
    });
    const registry = createOciRegistry({ url: server.url, pageSize: 10 });
    expect(await registry.listTags({ repository: 'team/app' })).toEqual(all);
    expect(server.requests).toHaveLength(3);
  });

  it('stops on the empty page that follows the link Gitea sends from its last page', async () => {
    const all = tagNames(120);
    const server = await serve((request, response) => {
      const n = Number(request.url.searchParams.get('n'));
      const last = request.url.searchParams.get('last');
      const start = last === null ? 0 : all.indexOf(last) + 1;
      const tags = all.slice(start, start + n);
      // Gitea links from every non-empty page, the final one included.
      const link: Record<string, string> =
        tags.length > 0 ? { link: `</v2/team/app/tags/list?last=${tags.at(-1)}&n=${n}>; rel="next"` } : {};
      sendJson(response, 200, { name: 'team/app', tags }, link);
    });
    const registry = createOciRegistry({ url: server.url, pageSize: 100 });
    expect(await registry.listTags({ repository: 'team/app' })).toEqual(all);
    expect(server.requests.map((request) => request.url.searchParams.get('last'))).toEqual([
      null,
      't099',
      't119',
    ]);
  });

  it('stops when a link repeats a `last` already read, or a page adds nothing new', async () => {
    let calls = 0;
    const server = await serve((_request, response) => {
      calls++;
      const tags = calls === 1 ? ['a', 'b'] : ['c'];
      sendJson(
        response,
        200,
        { name: 'team/app', tags },
        { link: `</v2/team/app/tags/list?n=2&last=b>; rel="next"` },
      );
    });
    const registry = createOciRegistry({ url: server.url, pageSize: 2 });
    expect(await registry.listTags({ repository: 'team/app' })).toEqual(['a', 'b', 'c']);
    expect(server.requests).toHaveLength(2);

    const same = await serve((_request, response) =>
      sendJson(response, 200, { name: 'x', tags: ['a'] }, { link: '</v2/x/tags/list?page=2>; rel="next"' }),
    );
    const again = createOciRegistry({ url: same.url });
    expect(await again.listTags({ repository: 'x' })).toEqual(['a']);
    expect(same.requests).toHaveLength(2);
  });

  it('ends endless pagination at maxPages with BAD_RESPONSE', async () => {
    let page = 0;
    const server = await serve((_request, response) => {
      page++;
      sendJson(
        response,
        200,
        { name: 'x', tags: [`p${page}`] },
        { link: `</v2/x/tags/list?page=${page + 1}>; rel="next"` },
      );
    });
    const registry = createOciRegistry({ url: server.url, maxPages: 5 });
    const error = await failure(registry.listTags({ repository: 'x' }));
    expect(error.code).toBe('BAD_RESPONSE');
    expect(error.message).toContain('after 5 pages');
    expect(server.requests).toHaveLength(5);
  });

  it('reads `tags: null` as no tags', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, { name: 'x', tags: null }));
    expect(await createOciRegistry({ url: server.url }).listTags({ repository: 'x' })).toEqual([]);
  });

  it('answers from the cache when the registry confirms an ETag with 304: one request per poll', async () => {
    const server = await serve((request, response) => {
      if (request.headers['if-none-match'] === '"v1"') {
        response.writeHead(304, { etag: '"v1"' }).end();
        return;
      }
      sendJson(response, 200, { name: 'x', tags: ['a', 'b'] }, { etag: '"v1"' });
    });
    const registry = createOciRegistry({ url: server.url });
    expect(await registry.listTags({ repository: 'x' })).toEqual(['a', 'b']);
    expect(await registry.listTags({ repository: 'x' })).toEqual(['a', 'b']);
    expect(server.requests.map((request) => request.headers['if-none-match'])).toEqual([undefined, '"v1"']);
    expect(registry.stats()).toMatchObject({ requests: 2, notModified: 1 });
  });
});

describe('answers that are not what they should be', () => {
  it('429 is RATE_LIMITED with retryAfterMs from Retry-After (seconds or a date)', async () => {
    const date = new Date(Date.now() + 30_000).toUTCString();
    const server = await serve((request, response) => {
      const retryAfter = request.method === 'HEAD' ? date : '7';
      const body = JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] });
      response.writeHead(429, { 'retry-after': retryAfter, 'content-type': 'application/json' }).end(body);
    });
    const registry = createOciRegistry({ url: server.url });
    const listing = await failure(registry.listTags({ repository: 'team/app' }));
    expect(listing).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 7000 });
    expect(listing.details).toMatchObject({
      registry: 'registry:oci',
      status: 429,
      registryCodes: ['TOOMANYREQUESTS'],
    });
    const head = await failure(registry.resolveReference({ repository: 'team/app', reference: 'v1' }));
    expect(head.code).toBe('RATE_LIMITED');
    expect(head.retryAfterMs).toBeGreaterThan(25_000);
    expect(head.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('reads RateLimit-Remaining where the registry sends it', async () => {
    const server = await serve((_request, response) =>
      sendJson(
        response,
        200,
        { name: 'x', tags: [] },
        { 'ratelimit-limit': '100;w=21600', 'ratelimit-remaining': '76;w=21600' },
      ),
    );
    const logger = createMemoryLogger();
    const registry = createOciRegistry({ url: server.url }, { logger });
    expect(registry.rateLimit).toBeUndefined();
    await registry.listTags({ repository: 'x' });
    expect(registry.rateLimit).toMatchObject({ remaining: 76, limit: 100, windowSeconds: 21600 });
    expect(
      logger.entries.some(
        (entry) => entry.message === 'registry rate limit' && entry.fields.remaining === 76,
      ),
    ).toBe(true);
  });

  it('an HTML page is BAD_RESPONSE with a 200, and UNAVAILABLE with a 502', async () => {
    const html = '<!doctype html><html><body><h1>Please log in</h1></body></html>';
    const server = await serve((request, response) => {
      const status = request.url.pathname.includes('/gateway/') ? 502 : 200;
      response.writeHead(status, { 'content-type': 'text/html' }).end(html);
    });
    const registry = createOciRegistry({ url: server.url });
    const portal = await failure(registry.listTags({ repository: 'team/app' }));
    expect(portal.code).toBe('BAD_RESPONSE');
    expect(portal.message).toContain('not JSON (content-type text/html');
    expect(portal.message).not.toContain('Please log in');
    const gateway = await failure(registry.listTags({ repository: 'gateway/app' }));
    expect(gateway).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
  });

  it('truncated JSON is BAD_RESPONSE, and so is a body cut off mid-stream (retryable)', async () => {
    const server = await serve((request, response) => {
      if (request.url.pathname.includes('/cut/')) {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '500' });
        response.write('{"name":"cut/app","tags":["a","b"');
        setTimeout(() => response.socket?.destroy(), 20);
        return;
      }
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end('{"name":"team/app","tags":["a","b"');
    });
    const registry = createOciRegistry({ url: server.url });
    expect((await failure(registry.listTags({ repository: 'team/app' }))).code).toBe('BAD_RESPONSE');
    const cut = await failure(registry.listTags({ repository: 'cut/app' }));
    expect(cut).toMatchObject({ code: 'BAD_RESPONSE', retryable: true });
  });

  it('a body over the size limit is BAD_RESPONSE before it is read', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-length': String(64 * 1024 * 1024),
      });
      response.write('{"tags":[');
    });
    const error = await failure(createOciRegistry({ url: server.url }).listTags({ repository: 'x' }));
    expect(error.code).toBe('BAD_RESPONSE');
    expect(error.message).toContain('body over');
  });

  it('JSON of the wrong shape is BAD_RESPONSE', async () => {
    const server = await serve((request, response) =>
      sendJson(response, 200, request.url.pathname.includes('/a/') ? { tags: 'v1' } : { tags: [1, 2] }),
    );
    const registry = createOciRegistry({ url: server.url });
    expect((await failure(registry.listTags({ repository: 'a/x' }))).code).toBe('BAD_RESPONSE');
    expect((await failure(registry.listTags({ repository: 'b/x' }))).code).toBe('BAD_RESPONSE');
  });

  it('an unknown repository (404 NAME_UNKNOWN) is NOT_FOUND naming the registry', async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 404, {
        errors: [{ code: 'NAME_UNKNOWN', message: 'repository name not known to registry' }],
      }),
    );
    const registry = createOciRegistry({ url: server.url }, { instance: 'fake' });
    const error = await failure(registry.listTags({ repository: 'team/missing' }));
    expect(error.code).toBe('NOT_FOUND');
    expect(error.message).toBe(`registry:oci/fake (${server.url}) does not know repository team/missing`);
  });

  it('a registry that does not answer in timeoutMs is TIMEOUT (retryable)', async () => {
    const server = await serve(() => {
      // Never answers.
    });
    const registry = createOciRegistry({ url: server.url, timeoutMs: 150 });
    const started = performance.now();
    const error = await failure(registry.listTags({ repository: 'x' }));
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(error.details.timeoutMs).toBe(150);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('a refused connection is UNAVAILABLE (retryable)', async () => {
    const server = await serve(() => undefined);
    await server.close();
    const error = await failure(createOciRegistry({ url: server.url }).listTags({ repository: 'x' }));
    expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('an abort, before or during a request, is ABORTED', async () => {
    const server = await serve(() => undefined);
    const registry = createOciRegistry({ url: server.url });
    const controller = new AbortController();
    const pending = failure(registry.listTags({ repository: 'x', signal: controller.signal }));
    await vi.waitFor(() => expect(server.requests).toHaveLength(1));
    controller.abort(new Error('stop'));
    expect((await pending).code).toBe('ABORTED');
    const early = await failure(
      registry.resolveReference({ repository: 'x', reference: 'v1', signal: AbortSignal.abort() }),
    );
    expect(early.code).toBe('ABORTED');
    expect(server.requests).toHaveLength(1);
  });

  it('a name that is not a repository or a reference is BAD_REQUEST, without a request', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, {}));
    const registry = createOciRegistry({ url: server.url });
    expect((await failure(registry.listTags({ repository: '../etc' }))).code).toBe('BAD_REQUEST');
    expect((await failure(registry.listTags({ repository: 'Team/App' }))).code).toBe('BAD_REQUEST');
    expect((await failure(registry.resolveReference({ repository: 'x', reference: 'a b' }))).code).toBe(
      'BAD_REQUEST',
    );
    expect(server.requests).toHaveLength(0);
  });

  it('after dispose, calls fail with UNAVAILABLE (not retryable)', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, { tags: [] }));
    const registry = createOciRegistry({ url: server.url });
    await registry.dispose();
    await registry.dispose();
    expect(await failure(registry.listTags({ repository: 'x' }))).toMatchObject({
      code: 'UNAVAILABLE',
      retryable: false,
    });
  });
});

describe('digests', () => {
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256('{}'), size: 2 },
    layers: [],
  });

  it('without Docker-Content-Digest, takes the sha256 of the GET body; the Accept list is complete', async () => {
    const server = await serve((request, response) => {
      response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });
      response.end(request.method === 'HEAD' ? undefined : manifest);
    });
    const registry = createOciRegistry({ url: server.url });
    const resolved = await registry.resolveReference({ repository: 'team/app', reference: 'v1' });
    expect(resolved).toEqual({
      digest: sha256(manifest),
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
    });
    expect(server.requests.map((request) => request.method)).toEqual(['HEAD', 'GET']);
    for (const request of server.requests) {
      expect(String(request.headers.accept).split(/,\s*/).sort()).toEqual([
        'application/vnd.docker.distribution.manifest.list.v2+json',
        'application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.oci.image.index.v1+json',
        'application/vnd.oci.image.manifest.v1+json',
      ]);
    }
  });

  it('a tag is resolved with one HEAD when the digest header is there; a 404 is undefined', async () => {
    const server = await serve((request, response) => {
      if (request.url.pathname.endsWith('/missing')) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, {
        'content-type': 'application/vnd.docker.distribution.manifest.v2+json',
        'docker-content-digest': sha256(manifest),
      });
      response.end();
    });
    const registry = createOciRegistry({ url: server.url });
    expect(await registry.resolveReference({ repository: 'team/app', reference: 'v1' })).toEqual({
      digest: sha256(manifest),
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
    });
    expect(await registry.resolveReference({ repository: 'team/app', reference: 'missing' })).toBeUndefined();
    expect(server.requests.map((request) => request.method)).toEqual(['HEAD', 'HEAD']);
  });

  it('an index lists its platforms without attestations, read once per digest', async () => {
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sha256('amd'),
          size: 1,
          platform: { os: 'linux', architecture: 'amd64' },
        },
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sha256('arm'),
          size: 1,
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
        },
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: sha256('att'),
          size: 1,
          platform: { os: 'unknown', architecture: 'unknown' },
          annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
        },
      ],
    });
    const server = await serve((request, response) => {
      response.writeHead(200, {
        'content-type': 'application/vnd.oci.image.index.v1+json',
        'docker-content-digest': sha256(index),
      });
      response.end(request.method === 'HEAD' ? undefined : index);
    });
    const registry = createOciRegistry({ url: server.url });
    const expected = {
      digest: sha256(index),
      mediaType: 'application/vnd.oci.image.index.v1+json',
      platforms: [
        { os: 'linux', architecture: 'amd64', digest: sha256('amd') },
        { os: 'linux', architecture: 'arm64', variant: 'v8', digest: sha256('arm') },
      ],
    };
    expect(await registry.resolveReference({ repository: 'team/app', reference: 'multi' })).toEqual(expected);
    expect(await registry.resolveReference({ repository: 'team/app', reference: 'multi' })).toEqual(expected);
    expect(server.requests.map((request) => `${request.method} ${request.url.pathname}`)).toEqual([
      'HEAD /v2/team/app/manifests/multi',
      `GET /v2/team/app/manifests/${sha256(index)}`,
      'HEAD /v2/team/app/manifests/multi',
    ]);
  });

  it('a body that does not hash to the requested digest is BAD_RESPONSE', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(manifest);
    });
    const registry = createOciRegistry({ url: server.url });
    const error = await failure(
      registry.readImageConfig({ repository: 'team/app', digest: sha256('something else') }),
    );
    expect(error.code).toBe('BAD_RESPONSE');
  });
});

describe('auth against fakes', () => {
  it('answers a challenge whose quoted values hold commas, and takes a token from access_token alone', async () => {
    const token = await serve((request, response) =>
      sendJson(response, 200, { access_token: `tok-${request.url.searchParams.get('scope')}` }),
    );
    const realm = `${token.url}/token?client=a,b`;
    const server = await serve((request, response) => {
      if (request.headers.authorization !== 'Bearer tok-repository:team/app:pull,push') {
        response.writeHead(401, {
          'www-authenticate': `Bearer realm="${realm}",service="fake, registry",scope="repository:team/app:pull,push",error="invalid \\"token\\""`,
        });
        response.end();
        return;
      }
      sendJson(response, 200, { name: 'team/app', tags: ['v1'] });
    });
    const registry = createOciRegistry({ url: server.url });
    expect(await registry.listTags({ repository: 'team/app' })).toEqual(['v1']);
    expect(token.requests).toHaveLength(1);
    const asked = token.requests[0]?.url;
    expect(asked?.searchParams.get('client')).toBe('a,b');
    expect(asked?.searchParams.get('service')).toBe('fake, registry');
    expect(asked?.searchParams.getAll('scope')).toEqual(['repository:team/app:pull,push']);
    expect(registry.stats()).toMatchObject({ requests: 3, tokenRequests: 1 });
  });

  it('keeps a token without expires_in for 60 s minus the safety margin', async () => {
    const token = await serve((_request, response) => sendJson(response, 200, { token: 'short' }));
    const server = await serve((request, response) => {
      if (request.headers.authorization !== 'Bearer short') {
        response
          .writeHead(401, { 'www-authenticate': `Bearer realm="${token.url}/token",service="fake"` })
          .end();
        return;
      }
      sendJson(response, 200, { name: 'x', tags: ['v1'] });
    });
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    const registry = createOciRegistry({ url: server.url });
    await registry.listTags({ repository: 'x' });
    await registry.listTags({ repository: 'x' });
    vi.setSystemTime(start + 53_000);
    await registry.listTags({ repository: 'x' });
    expect(token.requests).toHaveLength(1);
    vi.setSystemTime(start + 55_000);
    await registry.listTags({ repository: 'x' });
    expect(token.requests).toHaveLength(2);
    // The expired token was replaced up front: no 401 round trip.
    expect(
      registryCalls(server).filter((request) => request.headers.authorization === undefined),
    ).toHaveLength(1);
  });

  it('shares one token fetch among concurrent calls for the same scope', async () => {
    const token = await serve((_request, response) => {
      setTimeout(() => sendJson(response, 200, { token: 'shared', expires_in: 300 }), 50);
    });
    const server = await serve((request, response) => {
      if (request.headers.authorization !== 'Bearer shared') {
        response
          .writeHead(401, {
            'www-authenticate': `Bearer realm="${token.url}/token",service="fake",scope="repository:x:pull"`,
          })
          .end();
        return;
      }
      sendJson(response, 200, { name: 'x', tags: ['v1'] });
    });
    const registry = createOciRegistry({ url: server.url });
    await Promise.all(Array.from({ length: 10 }, () => registry.listTags({ repository: 'x' })));
    expect(token.requests).toHaveLength(1);
  });

  it('re-authenticates once when the registry refuses a cached token, then gives UNAUTHORIZED', async () => {
    let issued = 0;
    const token = await serve((_request, response) =>
      sendJson(response, 200, { token: `t${++issued}`, expires_in: 300 }),
    );
    let accept = 't1';
    const server = await serve((request, response) => {
      if (request.headers.authorization !== `Bearer ${accept}`) {
        response
          .writeHead(401, {
            'www-authenticate': `Bearer realm="${token.url}/token",service="fake",scope="repository:x:pull"`,
          })
          .end();
        return;
      }
      sendJson(response, 200, { name: 'x', tags: ['v1'] });
    });
    const registry = createOciRegistry({ url: server.url });
    await registry.listTags({ repository: 'x' });
    accept = 't2'; // t1 revoked: one 401, one new token, one retry
    await registry.listTags({ repository: 'x' });
    expect(issued).toBe(2);
    accept = 'never';
    const before = registry.stats();
    const error = await failure(registry.listTags({ repository: 'x' }));
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toBe(`registry:oci (${server.url}) refused the credentials for tags of x`);
    const after = registry.stats();
    expect(after.tokenRequests - before.tokenRequests).toBe(1);
    expect(after.requests - before.requests).toBe(3);
  });

  it('wrong Basic credentials are UNAUTHORIZED after one try, and no secret reaches errors or logs', async () => {
    const password = 'p4ssw0rd-never-shown';
    const server = await serve((request, response) => {
      if (request.headers.authorization === `Basic ${Buffer.from(`me:right`).toString('base64')}`) {
        sendJson(response, 200, { name: 'x', tags: [] });
        return;
      }
      response.writeHead(401, {
        'www-authenticate': 'Basic realm="fake"',
        'content-type': 'application/json',
      });
      response.end(
        JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }),
      );
    });
    const logger = createMemoryLogger();
    const registry = createOciRegistry(
      { url: server.url, username: 'me', password },
      { logger, instance: 'basic' },
    );
    const first = await failure(registry.listTags({ repository: 'x' }));
    expect(first.code).toBe('UNAUTHORIZED');
    expect(first.message).toContain(`registry:oci/basic (${server.url})`);
    expect(server.requests).toHaveLength(2);
    const second = await failure(registry.resolveReference({ repository: 'x', reference: 'v1' }));
    expect(second.code).toBe('UNAUTHORIZED');
    expect(server.requests).toHaveLength(3);
    const encoded = Buffer.from(`me:${password}`).toString('base64');
    for (const error of [first, second]) {
      const serialised = `${JSON.stringify(error)}\n${inspect(error, { depth: 10 })}`;
      expect(serialised).not.toContain(password);
      expect(serialised).not.toContain(encoded);
    }
    const logged = JSON.stringify(logger.entries);
    expect(logged).not.toContain(password);
    expect(logged).not.toContain(encoded);
  });

  it('a 401 without a challenge, and a token server that refuses, are UNAUTHORIZED', async () => {
    const bare = await serve((_request, response) => {
      response.writeHead(401).end();
    });
    expect((await failure(createOciRegistry({ url: bare.url }).listTags({ repository: 'x' }))).code).toBe(
      'UNAUTHORIZED',
    );

    const token = await serve((_request, response) =>
      sendJson(response, 401, { errors: [{ code: 'UNAUTHORIZED' }] }),
    );
    const server = await serve((_request, response) => {
      response
        .writeHead(401, { 'www-authenticate': `Bearer realm="${token.url}/token",service="fake"` })
        .end();
    });
    const registry = createOciRegistry({ url: server.url, username: 'me', password: 'token-secret-value' });
    const error = await failure(registry.listTags({ repository: 'x' }));
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.message).toContain('refused the credentials');
    expect(`${JSON.stringify(error)} ${inspect(error, { depth: 10 })}`).not.toContain('token-secret-value');
    expect(token.requests[0]?.headers.authorization).toMatch(/^Basic /);
  });

  it('sends credentials to the registry only: not to a host a blob redirects to', async () => {
    const config = JSON.stringify({
      config: { Labels: { a: 'b' }, ExposedPorts: { '80/tcp': {}, '53/udp': {} } },
    });
    const storage = await serve((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(config);
    });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(config),
        size: config.length,
      },
      layers: [],
    });
    const server = await serve((request, response) => {
      if (!request.headers.authorization) {
        response.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end();
        return;
      }
      if (request.url.pathname.includes('/blobs/')) {
        response.writeHead(307, { location: `${storage.url}/bucket/blob?signature=x` }).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(manifest);
    });
    const registry = createOciRegistry({ url: server.url, username: 'me', password: 'pw' });
    const image = await registry.readImageConfig({ repository: 'team/app', digest: sha256(manifest) });
    expect(image).toEqual({ labels: { a: 'b' }, exposedPorts: [53, 80] });
    expect(storage.requests).toHaveLength(1);
    expect(storage.requests[0]?.headers.authorization).toBeUndefined();
    // Configs are content-addressed: the second read is free.
    await registry.readImageConfig({ repository: 'team/app', digest: sha256(manifest) });
    expect(storage.requests).toHaveLength(1);
  });
});

describe('options', () => {
  it('puts defaultNamespace in front of single-component names (Docker Hub library/)', async () => {
    const server = await serve((_request, response) =>
      sendJson(response, 200, { name: 'library/nginx', tags: ['1'] }),
    );
    const options: OciRegistryOptions = { url: server.url, defaultNamespace: 'library' };
    const registry = createOciRegistry(options);
    await registry.listTags({ repository: 'nginx' });
    await registry.listTags({ repository: 'bitnami/nginx' });
    expect(server.requests.map((request) => request.url.pathname)).toEqual([
      '/v2/library/nginx/tags/list',
      '/v2/bitnami/nginx/tags/list',
    ]);
  });

  it('keeps a path prefix of the URL', async () => {
    const server = await serve((_request, response) => sendJson(response, 200, { name: 'x', tags: [] }));
    await createOciRegistry({ url: `${server.url}/mirror` }).listTags({ repository: 'x' });
    expect(server.requests[0]?.url.pathname).toBe('/mirror/v2/x/tags/list');
  });
});
