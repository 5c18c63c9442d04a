import { describe, expect, it } from 'vitest';
import { ApiError, apiPath, createRequester, query } from './client.ts';
import { describeError } from './errors.ts';

type Call = { url: string; init: RequestInit };

function fakeFetch(answer: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const impl = (async (url: string, init: RequestInit) => {
    const call = { url, init };
    calls.push(call);
    return answer(call);
  }) as unknown as typeof fetch;
  return { calls, impl };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

describe('the API requester', () => {
  it('sends the CSRF token on mutations only, and JSON bodies', async () => {
    const { calls, impl } = fakeFetch(() => json(200, { ok: true }));
    const request = createRequester({ csrfToken: () => 'csrf-1' }, impl);
    await request('GET', '/api/projects');
    await request('POST', '/api/x', { body: { tag: 'v1' }, idempotencyKey: 'k1' });
    const [get, post] = calls.map((call) => call.init.headers as Record<string, string>);
    expect(get!['x-csrf-token']).toBeUndefined();
    expect(post!['x-csrf-token']).toBe('csrf-1');
    expect(post!['idempotency-key']).toBe('k1');
    expect(calls[1]!.init.body).toBe('{"tag":"v1"}');
  });

  it("turns an error answer into an ApiError with the server's code, message and Retry-After", async () => {
    const { impl } = fakeFetch(() =>
      json(
        429,
        { error: { code: 'RATE_LIMITED', message: 'Too many failed logins: try again in 7 s' } },
        { 'retry-after': '7' },
      ),
    );
    const error = await createRequester({ csrfToken: () => undefined }, impl)(
      'POST',
      '/api/auth/login',
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 429, code: 'RATE_LIMITED', retryAfterSeconds: 7 });
    expect(describeError(error).hint).toBe('Try again in 7 s.');
  });

  it('reports a 401 as the end of the session, unless asked not to', async () => {
    const ended: ApiError[] = [];
    const { impl } = fakeFetch(() => json(401, { error: { code: 'UNAUTHORIZED', message: 'expired' } }));
    const request = createRequester(
      { csrfToken: () => undefined, onUnauthorized: (e) => ended.push(e) },
      impl,
    );
    await request('GET', '/api/projects').catch(() => undefined);
    await request('GET', '/api/auth/session', { quietUnauthorized: true }).catch(() => undefined);
    expect(ended.map((e) => e.message)).toEqual(['expired']);
  });

  it('says the server is unreachable when no answer comes, and reachable again when one does', async () => {
    const reachable: boolean[] = [];
    let up = false;
    const { impl } = fakeFetch(() => {
      if (!up) throw new TypeError('fetch failed');
      return json(200, {});
    });
    const request = createRequester(
      { csrfToken: () => undefined, onReachable: (r) => reachable.push(r) },
      impl,
    );
    const error = await request('GET', '/api/projects').catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 0, code: 'UNREACHABLE' });
    up = true;
    await request('GET', '/api/projects');
    expect(reachable).toEqual([false, true]);
  });

  it('keeps a message for answers without a JSON body', async () => {
    const { impl } = fakeFetch(
      () => new Response('<html>bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
    );
    const error = (await createRequester({ csrfToken: () => undefined }, impl)('GET', '/api/x').catch(
      (e) => e,
    )) as ApiError;
    expect(error.message).toBe('The server answered 502 Bad Gateway');
    expect(describeError(error).title).toBe('Server error');
  });

  it('encodes names as path parts, never as path syntax', () => {
    expect(apiPath('projects', '../admin', 'stages', 'a/b')).toBe('/api/projects/..%2Fadmin/stages/a%2Fb');
    expect(query({ project: 'web app', limit: 5, stage: undefined })).toBe('?project=web+app&limit=5');
    expect(query({})).toBe('');
  });
});
