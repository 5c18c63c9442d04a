import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appFixture, type LocalRegistry, pushImage, pushSyntheticTags, startRegistry } from '../src/index.ts';

async function listTags(
  registry: LocalRegistry,
  repository: string,
  authorization?: string,
): Promise<Response> {
  return fetch(
    `${registry.url}/v2/${repository}/tags/list`,
    authorization ? { headers: { authorization } } : {},
  );
}

describe('local registry, anonymous', () => {
  let registry: LocalRegistry;
  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(() => registry?.stop());

  it('takes fixture app releases pushed through the engine and lists their tags', async () => {
    const first = await pushImage(registry, {
      source: appFixture('v1').ref,
      repository: 'team/web-app',
      tag: 'v1.0.0',
    });
    const second = await pushImage(registry, {
      source: appFixture('v2').ref,
      repository: 'team/web-app',
      tag: 'v1.1.0',
    });
    expect(first.digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(second.digest).not.toBe(first.digest);
    const body = (await (await listTags(registry, 'team/web-app')).json()) as { tags: string[] };
    expect(body.tags.sort()).toEqual(['v1.0.0', 'v1.1.0']);
    const head = await fetch(`${registry.url}/v2/team/web-app/manifests/v1.1.0`, {
      method: 'HEAD',
      headers: {
        accept:
          'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
      },
    });
    expect(head.headers.get('docker-content-digest')).toBe(second.digest);
  });

  it('takes many synthetic tags, each with its own digest', async () => {
    const tags = Array.from({ length: 120 }, (_, i) => `dev-${i}`);
    const pushed = await pushSyntheticTags(registry, 'team/many', tags);
    expect(new Set(pushed.map((p) => p.digest)).size).toBe(120);
    const body = (await (await listTags(registry, 'team/many')).json()) as { tags: string[] };
    expect(body.tags).toHaveLength(120);
  });
});

describe('local registry, basic auth', () => {
  let registry: LocalRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'basic' });
  });
  afterAll(() => registry?.stop());

  it('refuses anonymous and wrong credentials and accepts the right ones', async () => {
    await pushSyntheticTags(registry, 'team/private', ['v1.0.0']);
    expect((await listTags(registry, 'team/private')).status).toBe(401);
    const wrong = `Basic ${Buffer.from('watcher:not-the-password').toString('base64')}`;
    expect((await listTags(registry, 'team/private', wrong)).status).toBe(401);
    const right = await listTags(registry, 'team/private', registry.authorization([]));
    expect(right.status).toBe(200);
    expect(((await right.json()) as { tags: string[] }).tags).toEqual(['v1.0.0']);
  });

  it('accepts pushes through the engine with credentials', async () => {
    const pushed = await pushImage(registry, {
      source: appFixture('v1').ref,
      repository: 'team/private-app',
      tag: 'v1',
    });
    expect(pushed.digest).toMatch(/^sha256:/);
  });
});

describe('local registry, token auth', () => {
  let registry: LocalRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
    await pushSyntheticTags(registry, 'team/tokened', ['v1.0.0', 'v1.1.0']);
  });
  afterAll(() => registry?.stop());

  function challengeOf(response: Response): Record<string, string> {
    const header = response.headers.get('www-authenticate') ?? '';
    expect(header).toMatch(/^Bearer /);
    return Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
  }

  it('goes through the Bearer challenge: 401 with realm, service and scope, then a token that works', async () => {
    const challenged = await listTags(registry, 'team/tokened');
    expect(challenged.status).toBe(401);
    const challenge = challengeOf(challenged);
    expect(challenge.realm).toBe(registry.tokenServer?.realm);
    expect(challenge.scope).toBe('repository:team/tokened:pull');
    const url = new URL(challenge.realm ?? '');
    url.searchParams.set('service', challenge.service ?? '');
    url.searchParams.set('scope', challenge.scope ?? '');
    const basic = Buffer.from(`${registry.credentials?.username}:${registry.credentials?.password}`).toString(
      'base64',
    );
    const tokenResponse = await fetch(url, { headers: { authorization: `Basic ${basic}` } });
    expect(tokenResponse.status).toBe(200);
    const { token, access_token, expires_in } = (await tokenResponse.json()) as Record<string, unknown>;
    expect(token).toBe(access_token);
    expect(expires_in).toBe(300);
    const listed = await listTags(registry, 'team/tokened', `Bearer ${token}`);
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { tags: string[] }).tags.sort()).toEqual(['v1.0.0', 'v1.1.0']);
  });

  it('refuses wrong credentials at the token server, and a token for another repository at the registry', async () => {
    const challenge = challengeOf(await listTags(registry, 'team/tokened'));
    const url = new URL(challenge.realm ?? '');
    url.searchParams.set('service', challenge.service ?? '');
    url.searchParams.set('scope', challenge.scope ?? '');
    const wrong = Buffer.from(`${registry.credentials?.username}:wrong`).toString('base64');
    const refused = await fetch(url, { headers: { authorization: `Basic ${wrong}` } });
    expect(refused.status).toBe(401);
    expect(registry.tokenServer?.requests.at(-1)).toMatchObject({ status: 401 });
    const otherScope = registry.authorization(['repository:team/other:pull']);
    expect((await listTags(registry, 'team/tokened', otherScope)).status).toBe(401);
  });

  it('accepts pushes through the engine, which follows the same challenge', async () => {
    const pushed = await pushImage(registry, {
      source: appFixture('v2').ref,
      repository: 'team/tokened-app',
      tag: 'v2',
    });
    expect(pushed.digest).toMatch(/^sha256:/);
  });
});
