// Tag lists larger than a page. Distribution 2.8 ignores `n` and `last` and answers every tag at once, so the
// Link-following run goes through a loopback proxy that pages the real registry's answer as the spec describes
// (relative `Link`, `n`, `last`), passing auth through untouched.
import type { ServerResponse } from 'node:http';
import {
  type LocalRegistry,
  type Loopback,
  pushSyntheticTags,
  type SeenRequest,
  startLoopback,
  startRegistry,
} from '@docker-watcher/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOciRegistry } from '../src/index.ts';
import { optionsFor } from './support/harness.ts';

const tags = Array.from({ length: 250 }, (_, index) => `build-${String(index).padStart(4, '0')}`);

async function pagingProxy(registry: LocalRegistry): Promise<Loopback> {
  return startLoopback(async (request: SeenRequest, response: ServerResponse) => {
    const upstream = new URL(request.url.pathname, registry.url);
    const headers: Record<string, string> = { accept: String(request.headers.accept ?? '*/*') };
    if (request.headers.authorization) headers.authorization = request.headers.authorization;
    const answer = await fetch(upstream, { method: request.method, headers });
    const passThrough = (body: string) => {
      const copied: Record<string, string> = {
        'content-type': answer.headers.get('content-type') ?? 'application/json',
      };
      const challenge = answer.headers.get('www-authenticate');
      if (challenge) copied['www-authenticate'] = challenge;
      response.writeHead(answer.status, copied).end(body);
    };
    const text = await answer.text();
    if (answer.status !== 200 || !request.url.pathname.endsWith('/tags/list')) return passThrough(text);
    const all = ((JSON.parse(text) as { tags: string[] }).tags ?? []).sort();
    const n = Number(request.url.searchParams.get('n') ?? all.length);
    const last = request.url.searchParams.get('last');
    const start = last === null ? 0 : all.findIndex((tag) => tag > last);
    const page = start < 0 ? [] : all.slice(start, start + n);
    const more = start >= 0 && start + n < all.length;
    const link = `<${request.url.pathname}?n=${n}&last=${encodeURIComponent(page.at(-1) ?? '')}>; rel="next"`;
    response
      .writeHead(200, { 'content-type': 'application/json', ...(more ? { link } : {}) })
      .end(JSON.stringify({ name: 'paged', tags: page }));
  });
}

describe('tag lists larger than a page (token auth)', () => {
  let registry: LocalRegistry;
  let proxy: Loopback;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
    await pushSyntheticTags(registry, 'team/many', tags);
    proxy = await pagingProxy(registry);
  });
  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
  });

  it('follows Link across pages: 250 tags at a page size of 100', async () => {
    const adapter = createOciRegistry({ ...optionsFor(registry), url: proxy.url, pageSize: 100 });
    expect(await adapter.listTags({ repository: 'team/many' })).toEqual(tags);
    const pages = proxy.requests.filter((request) => request.headers.authorization);
    expect(pages.map((request) => request.path)).toEqual([
      '/v2/team/many/tags/list?n=100',
      '/v2/team/many/tags/list?n=100&last=build-0099',
      '/v2/team/many/tags/list?n=100&last=build-0199',
    ]);
    // One token for the repository's scope, reused for every page.
    expect(adapter.stats().tokenRequests).toBe(1);
  });

  it('lists the same 250 tags from the registry itself in one request', async () => {
    const adapter = createOciRegistry(optionsFor(registry, { pageSize: 100 }));
    await adapter.listTags({ repository: 'team/many' });
    const before = adapter.stats().requests;
    expect((await adapter.listTags({ repository: 'team/many' })).sort()).toEqual(tags);
    expect(adapter.stats().requests - before).toBe(1);
  });
});
