import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FakeNpm, npmSchemas, startFakeNpm } from './fake-npm.ts';

// The fake is only worth its tests if it answers like NPM: these pin what OBSERVED.md describes.
let npm: FakeNpm;
beforeEach(async () => {
  npm = await startFakeNpm();
});
afterEach(() => npm.close());

async function call(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; raw?: string } = {},
) {
  const response = await fetch(`${npm.url}/api${path}`, {
    method,
    headers: {
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...(options.body === undefined && options.raw === undefined
        ? {}
        : { 'content-type': 'application/json' }),
    },
    ...(options.raw !== undefined
      ? { body: options.raw }
      : options.body === undefined
        ? {}
        : { body: JSON.stringify(options.body) }),
  });
  return {
    status: response.status,
    body: (await response.json()) as Record<string, unknown> & { error?: { message: string } },
  };
}

async function login(): Promise<string> {
  const answer = await call('POST', '/tokens', {
    body: { identity: npm.user.email, secret: npm.user.password },
  });
  expect(answer.status).toBe(200);
  return answer.body.token as string;
}

const proxyHost = npmSchemas.at('components/proxy-host-object.json');

describe('fake NPM', () => {
  it('answers GET /api without auth', async () => {
    const answer = await call('GET', '');
    expect(answer).toMatchObject({ status: 200, body: { status: 'OK', setup: true } });
  });

  it('logs in with { identity, secret } and refreshes with GET /api/tokens', async () => {
    const answer = await call('POST', '/tokens', {
      body: { identity: npm.user.email, secret: npm.user.password },
    });
    expect(npmSchemas.check(npmSchemas.at('components/token-object.json'), answer.body).errors).toEqual([]);
    expect(Date.parse(answer.body.expires as string)).toBeGreaterThan(Date.now() + 86_000_000);
    const refreshed = await call('GET', '/tokens', { token: answer.body.token as string });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.token).not.toBe(answer.body.token);
  });

  it('refuses bad logins with 400, never 401', async () => {
    expect(await call('POST', '/tokens', { body: { identity: npm.user.email, secret: 'wrong' } })).toEqual({
      status: 400,
      body: {
        error: { code: 400, message: 'Invalid email or password', message_i18n: 'error.invalid-auth' },
      },
    });
    expect(await call('POST', '/tokens', { body: { identity: 'nobody@example.com', secret: 'x' } })).toEqual({
      status: 400,
      body: { error: { code: 400, message: 'Invalid email or password' } },
    });
    const missing = await call('POST', '/tokens', { body: { identity: npm.user.email } });
    expect(missing.status).toBe(400);
    expect(missing.body.error?.message).toBe("data must have required property 'secret'");
    const extra = await call('POST', '/tokens', { body: { identity: 'a', secret: 'b', remember: true } });
    expect(extra.body.error?.message).toBe('data must NOT have additional properties');
  });

  it('fails without a token like NPM: 404 without or empty, 500 for a bad one, 400 for an expired one', async () => {
    expect(await call('GET', '/nginx/proxy-hosts')).toEqual({
      status: 404,
      body: { error: { code: 404, message: 'Not Found - /nginx/proxy-hosts' } },
    });
    expect(await call('GET', '/nginx/proxy-hosts', { token: '' })).toEqual({
      status: 404,
      body: { error: { code: 404, message: 'Not Found - /nginx/proxy-hosts' } },
    });
    expect((await call('GET', '/nginx/proxy-hosts', { token: 'not.a.token' })).status).toBe(500);
    const token = await login();
    npm.expireTokens();
    expect(await call('GET', '/nginx/proxy-hosts', { token })).toEqual({
      status: 400,
      body: { error: { code: 400, message: 'Token has expired' } },
    });
  });

  it('creates with 201 and meta {}, and shows nginx verdict on the next read', async () => {
    const token = await login();
    const created = await call('POST', '/nginx/proxy-hosts', {
      token,
      body: {
        domain_names: ['A.example.com'],
        forward_scheme: 'http',
        forward_host: '10.0.0.1',
        forward_port: '18081',
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.meta).toEqual({});
    expect(created.body.forward_port).toBe(18081);
    expect(created.body.domain_names).toEqual(['A.example.com']);
    // A new host's locations is null where the schema says array (OBSERVED.md); the rest conforms.
    const conforming = (host: Record<string, unknown>) => ({ ...host, locations: host.locations ?? [] });
    expect(created.body.locations).toBeNull();
    expect(npmSchemas.check(proxyHost, conforming(created.body)).errors).toEqual([]);
    const read = await call('GET', `/nginx/proxy-hosts/${created.body.id}`, { token });
    expect(read.body.meta).toEqual({ nginx_online: true, nginx_err: null });
    expect(npmSchemas.check(proxyHost, conforming(read.body)).errors).toEqual([]);
    const list = await call('GET', '/nginx/proxy-hosts?expand=owner,access_list,certificate', { token });
    expect(
      npmSchemas.check(
        npmSchemas.at('components/proxy-host-list.json'),
        (list.body as unknown as Array<Record<string, unknown>>).map(conforming),
      ).errors,
    ).toEqual([]);
  });

  it('validates bodies against the schemas with ajv-style messages', async () => {
    const token = await login();
    const create = (body: unknown) => call('POST', '/nginx/proxy-hosts', { token, body });
    const base = {
      domain_names: ['b.example.com'],
      forward_scheme: 'http',
      forward_host: '10.0.0.1',
      forward_port: 80,
    };
    const messages = [
      (await create({ ...base, forward_host: undefined })).body.error?.message,
      (await create({ ...base, forward_port: 70000 })).body.error?.message,
      (await create({ ...base, forward_scheme: 'ftp' })).body.error?.message,
      (await create({ ...base, domain_names: [] })).body.error?.message,
      (await create({ ...base, domain_names: ['bad host!'] })).body.error?.message,
      (await create({ ...base, surprise: 1 })).body.error?.message,
    ];
    expect(messages).toEqual([
      "data must have required property 'forward_host'",
      'data/forward_port must be <= 65535',
      'data/forward_scheme must be equal to one of the allowed values',
      'data/domain_names must NOT have fewer than 1 items',
      expect.stringMatching(/^data\/domain_names\/0 must match pattern/),
      'data must NOT have additional properties',
    ]);
    const malformed = await call('POST', '/nginx/proxy-hosts', { token, raw: '{"domain_names": [' });
    expect(malformed).toEqual({ status: 400, body: { error: { code: 400, message: 'Internal Error' } } });
  });

  it('updates with PUT (partial, never empty), deletes once, toggles once', async () => {
    const token = await login();
    const host = npm.seedHost({ domain_names: ['c.example.com'] });
    expect(
      (await call('PUT', `/nginx/proxy-hosts/${host.id}`, { token, body: {} })).body.error?.message,
    ).toBe('data must NOT have fewer than 1 properties');
    const updated = await call('PUT', `/nginx/proxy-hosts/${host.id}`, {
      token,
      body: { forward_port: 9000 },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ forward_port: 9000, meta: { nginx_online: true, nginx_err: null } });
    expect(await call('POST', `/nginx/proxy-hosts/${host.id}/disable`, { token })).toEqual({
      status: 200,
      body: true,
    });
    expect((await call('POST', `/nginx/proxy-hosts/${host.id}/disable`, { token })).body.error?.message).toBe(
      'Host is already disabled',
    );
    expect(await call('DELETE', `/nginx/proxy-hosts/${host.id}`, { token })).toEqual({
      status: 200,
      body: true,
    });
    expect(await call('DELETE', `/nginx/proxy-hosts/${host.id}`, { token })).toEqual({
      status: 404,
      body: { error: { code: 404, message: `Not Found - ${host.id}` } },
    });
  });

  it('refuses a domain in use, case-insensitively, and frees it on delete', async () => {
    const token = await login();
    const host = npm.seedHost({ domain_names: ['Taken.example.com'] });
    const base = { forward_scheme: 'http', forward_host: '10.0.0.1', forward_port: 80 };
    const again = await call('POST', '/nginx/proxy-hosts', {
      token,
      body: { ...base, domain_names: ['taken.EXAMPLE.com'] },
    });
    expect(again.body.error?.message).toBe('taken.EXAMPLE.com is already in use');
    await call('DELETE', `/nginx/proxy-hosts/${host.id}`, { token });
    const reuse = await call('POST', '/nginx/proxy-hosts', {
      token,
      body: { ...base, domain_names: ['taken.example.com'] },
    });
    expect(reuse.status).toBe(201);
  });

  it('records a failed nginx test in meta and drops the host config file', async () => {
    const token = await login();
    npm.nginxFails = (host) =>
      host.forward_host === 'broken' ? 'nginx: [emerg] host not found in upstream "broken"' : undefined;
    const host = npm.seedHost({ domain_names: ['d.example.com'], forward_host: '10.0.0.1' });
    expect(npm.served('d.example.com')).toMatchObject({ forward_host: '10.0.0.1' });
    const updated = await call('PUT', `/nginx/proxy-hosts/${host.id}`, {
      token,
      body: { forward_host: 'broken' },
    });
    expect(updated.body.meta).toEqual({
      nginx_online: false,
      nginx_err: 'nginx: [emerg] host not found in upstream "broken"',
    });
    expect(npm.served('d.example.com')).toBeUndefined();
    expect(npm.host(host.id)?.forward_host).toBe('broken');
  });

  it('lets a user with "view" on proxy hosts read, and answers its writes 500 or 404, never 403', async () => {
    const limited = await startFakeNpm({
      users: [
        { email: 'viewer@example.com', password: 'viewer-pass', proxyHosts: 'view', certificates: 'hidden' },
      ],
    });
    try {
      const answer = await fetch(`${limited.url}/api/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ identity: 'viewer@example.com', secret: 'viewer-pass' }),
      });
      const { token } = (await answer.json()) as { token: string };
      const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const list = await fetch(`${limited.url}/api/nginx/proxy-hosts`, { headers: auth });
      expect(list.status).toBe(200);
      const write = await fetch(`${limited.url}/api/nginx/proxy-hosts`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({
          domain_names: ['e.example.com'],
          forward_scheme: 'http',
          forward_host: 'x',
          forward_port: 80,
        }),
      });
      expect(write.status).toBe(500);
      expect(limited.hosts()).toEqual([]);
      const host = limited.seedHost({ domain_names: ['f.example.com'] });
      const put = await fetch(`${limited.url}/api/nginx/proxy-hosts/${host.id}`, {
        method: 'PUT',
        headers: auth,
        body: JSON.stringify({ forward_port: 81 }),
      });
      expect(put.status).toBe(404);
      expect(await put.json()).toEqual({
        error: { code: 404, message: `Not Found - /nginx/proxy-hosts/${host.id}` },
      });
      const certificates = await fetch(`${limited.url}/api/nginx/certificates`, { headers: auth });
      expect(certificates.status).toBe(404);
    } finally {
      await limited.close();
    }
  });

  it("stores changes but answers 500 while nginx's global check fails, and nginx keeps serving the old", async () => {
    const token = await login();
    const host = npm.seedHost({ domain_names: ['g.example.com'], forward_host: '10.0.0.1' });
    npm.nginxBroken = true;
    const created = await call('POST', '/nginx/proxy-hosts', {
      token,
      body: { domain_names: ['h.example.com'], forward_scheme: 'http', forward_host: 'x', forward_port: 80 },
    });
    expect(created).toEqual({ status: 500, body: { error: { code: 500, message: 'Internal Error' } } });
    expect(npm.hosts().find((h) => h.domain_names[0] === 'h.example.com')?.meta).toEqual({});
    expect(npm.served('h.example.com')).toBeUndefined();
    const again = await call('POST', '/nginx/proxy-hosts', {
      token,
      body: { domain_names: ['h.example.com'], forward_scheme: 'http', forward_host: 'x', forward_port: 80 },
    });
    expect(again.body.error?.message).toBe('h.example.com is already in use');
    const switched = await call('PUT', `/nginx/proxy-hosts/${host.id}`, {
      token,
      body: { forward_host: '10.0.0.2' },
    });
    expect(switched.status).toBe(500);
    expect(npm.host(host.id)).toMatchObject({ forward_host: '10.0.0.2', meta: { nginx_online: true } });
    expect(npm.served('g.example.com')).toMatchObject({ forward_host: '10.0.0.1' });
  });

  it('answers an empty bearer token 404, lists custom certificates with their keys, and new hosts with locations null', async () => {
    expect((await call('GET', '/nginx/proxy-hosts', { token: '' })).status).toBe(404);
    const token = await login();
    npm.seedCertificate({ domain_names: ['*.example.com'], provider: 'other' });
    const [certificate] = (await call('GET', '/nginx/certificates', { token })).body as unknown as Array<{
      expires_on: string;
      meta: { certificate_key?: string };
    }>;
    expect(certificate?.meta.certificate_key).toContain('PRIVATE KEY');
    expect(certificate?.expires_on).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const created = await call('POST', '/nginx/proxy-hosts', {
      token,
      body: { domain_names: ['i.example.com'], forward_scheme: 'http', forward_host: 'x', forward_port: 80 },
    });
    expect(created.body.locations).toBeNull();
  });

  it('answers every API call with an HTML page while its backend is down', async () => {
    npm.htmlErrors = 502;
    const response = await fetch(`${npm.url}/api/nginx/proxy-hosts`);
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toBe('text/html');
    expect(await response.text()).toContain('<title>502 Bad Gateway</title>');
  });
});
