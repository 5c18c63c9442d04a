import { isCoreError, silentLogger } from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { createAuthenticator, defaultTokenLifetimeMs, tokenSafetyMarginMs } from './_auth.ts';
import type { HttpRequest, HttpResponse, Transport } from './_http.ts';

const identity = { id: 'registry:oci', url: 'https://registry.example.com' };
const challenge = 'Bearer realm="https://auth.example.com/token",service="registry.example.com"';

/** A token server in memory: answers token requests with `body(request)`, records them. */
function tokenServer(body: (request: HttpRequest, index: number) => unknown, status = 200) {
  const requests: HttpRequest[] = [];
  const transport: Transport = async (request) => {
    requests.push(request);
    const response: HttpResponse = {
      status,
      headers: new Headers({ 'content-type': 'application/json' }),
      url: request.url,
      body: new TextEncoder().encode(JSON.stringify(body(request, requests.length))),
    };
    return response;
  };
  return { transport, requests };
}

async function codeOf(action: Promise<unknown>): Promise<string | undefined> {
  try {
    await action;
  } catch (error) {
    return isCoreError(error) ? error.code : 'not a CoreError';
  }
  return undefined;
}

describe('createAuthenticator', () => {
  it('keeps a token for its lifetime minus a tenth (at most 10 s), per scope', async () => {
    expect(tokenSafetyMarginMs(60_000)).toBe(6_000);
    expect(tokenSafetyMarginMs(300_000)).toBe(10_000);
    expect(defaultTokenLifetimeMs).toBe(60_000);
    let now = 1_000_000;
    const server = tokenServer((_request, index) => ({ token: `t${index}`, expires_in: 300 }));
    const counters = { tokenRequests: 0 };
    const auth = createAuthenticator({
      identity,
      transport: server.transport,
      counters,
      logger: silentLogger,
      now: () => now,
    });
    expect(await auth.current('repository:a:pull')).toBeUndefined();
    expect(await auth.answer(challenge, 'repository:a:pull', undefined)).toBe('Bearer t1');
    expect(auth.scheme).toBe('bearer');
    expect(await auth.current('repository:a:pull')).toBe('Bearer t1');
    // A new scope is fetched up front from the realm the challenge named.
    expect(await auth.current('repository:b:pull')).toBe('Bearer t2');
    now += 289_000;
    expect(await auth.current('repository:a:pull')).toBe('Bearer t1');
    now += 2_000;
    expect(await auth.current('repository:a:pull')).toBe('Bearer t3');
    expect(counters.tokenRequests).toBe(3);
    expect(server.requests.map((request) => request.url.searchParams.getAll('scope'))).toEqual([
      ['repository:a:pull'],
      ['repository:b:pull'],
      ['repository:a:pull'],
    ]);
  });

  it('uses the scope of the challenge, sends Basic credentials only to the realm', async () => {
    const server = tokenServer(() => ({ access_token: 'only-access' }));
    const auth = createAuthenticator({
      identity,
      transport: server.transport,
      credentials: { username: 'me', password: 'pw' },
      counters: { tokenRequests: 0 },
      logger: silentLogger,
    });
    const header = await auth.answer(
      `${challenge},scope="repository:x:pull,push repository:y:pull"`,
      'repository:x:pull',
      undefined,
    );
    expect(header).toBe('Bearer only-access');
    const [request] = server.requests;
    expect(request?.url.searchParams.getAll('scope')).toEqual([
      'repository:x:pull,push',
      'repository:y:pull',
    ]);
    expect(request?.authorization).toBe(`Basic ${Buffer.from('me:pw').toString('base64')}`);
    expect(request?.authorizedOrigin).toBe('https://auth.example.com');
  });

  it('replaces a token the registry refused, and shares one fetch among concurrent callers', async () => {
    const server = tokenServer((_request, index) => ({ token: `t${index}` }));
    const auth = createAuthenticator({
      identity,
      transport: server.transport,
      counters: { tokenRequests: 0 },
      logger: silentLogger,
    });
    const first = await Promise.all(
      Array.from({ length: 5 }, () => auth.answer(challenge, 'repository:a:pull', undefined)),
    );
    expect(new Set(first)).toEqual(new Set(['Bearer t1']));
    expect(await auth.answer(challenge, 'repository:a:pull', 'Bearer t1')).toBe('Bearer t2');
    expect(server.requests).toHaveLength(2);
  });

  it('answers Basic challenges with the credentials once; refuses without them or after they failed', async () => {
    const server = tokenServer(() => ({}));
    const withCredentials = createAuthenticator({
      identity,
      transport: server.transport,
      credentials: { username: 'me', password: 'pw' },
      counters: { tokenRequests: 0 },
      logger: silentLogger,
    });
    const basic = await withCredentials.answer('Basic realm="r"', undefined, undefined);
    expect(basic).toMatch(/^Basic /);
    expect(await withCredentials.current('repository:a:pull')).toBe(basic);
    expect(await codeOf(withCredentials.answer('Basic realm="r"', undefined, basic))).toBe('UNAUTHORIZED');
    const anonymous = createAuthenticator({
      identity,
      transport: server.transport,
      counters: { tokenRequests: 0 },
      logger: silentLogger,
    });
    expect(await codeOf(anonymous.answer('Basic realm="r"', undefined, undefined))).toBe('UNAUTHORIZED');
    expect(await codeOf(anonymous.answer(null, undefined, undefined))).toBe('UNAUTHORIZED');
    expect(await codeOf(anonymous.answer('Bearer realm="ftp://x/token"', undefined, undefined))).toBe(
      'BAD_RESPONSE',
    );
    expect(server.requests).toHaveLength(0);
  });

  it('maps token server answers: refusal UNAUTHORIZED, no token or no JSON BAD_RESPONSE', async () => {
    const make = (transport: Transport) =>
      createAuthenticator({ identity, transport, counters: { tokenRequests: 0 }, logger: silentLogger });
    expect(
      await codeOf(make(tokenServer(() => ({}), 401).transport).answer(challenge, undefined, undefined)),
    ).toBe('UNAUTHORIZED');
    expect(
      await codeOf(
        make(tokenServer(() => ({ token: '' })).transport).answer(challenge, undefined, undefined),
      ),
    ).toBe('BAD_RESPONSE');
    const html: Transport = async (request) => ({
      status: 200,
      headers: new Headers(),
      url: request.url,
      body: new TextEncoder().encode('<html>'),
    });
    expect(await codeOf(make(html).answer(challenge, undefined, undefined))).toBe('BAD_RESPONSE');
    expect(
      await codeOf(make(tokenServer(() => ({}), 503).transport).answer(challenge, undefined, undefined)),
    ).toBe('UNAVAILABLE');
  });

  it('gives ABORTED to a caller whose signal fires while the token is fetched, without failing the others', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const slow: Transport = async (request) => {
      await gate;
      return {
        status: 200,
        headers: new Headers(),
        url: request.url,
        body: new TextEncoder().encode('{"token":"late"}'),
      };
    };
    const auth = createAuthenticator({
      identity,
      transport: slow,
      counters: { tokenRequests: 0 },
      logger: silentLogger,
    });
    const controller = new AbortController();
    const impatient = codeOf(auth.answer(challenge, 'repository:a:pull', undefined, controller.signal));
    const patient = auth.answer(challenge, 'repository:a:pull', undefined);
    controller.abort();
    expect(await impatient).toBe('ABORTED');
    release();
    expect(await patient).toBe('Bearer late');
  });
});
