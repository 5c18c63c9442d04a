// Straight calls to a local registry's API, as the testkit itself makes them: a refusal is a TestkitError.
import { createHash } from 'node:crypto';
import type { LocalRegistry } from './registry.ts';
import { TestkitError } from './testkit-error.ts';

export const sha256 = (data: Uint8Array | string) =>
  `sha256:${createHash('sha256').update(data).digest('hex')}`;

export async function registryFetch(
  registry: LocalRegistry,
  path: string,
  scopes: string[],
  init: RequestInit = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  const authorization = registry.authorization(scopes);
  if (authorization) headers.set('authorization', authorization);
  const response = await fetch(new URL(path, registry.url), { ...init, headers, redirect: 'manual' });
  if (response.status >= 400) {
    throw new TestkitError(
      `${init.method ?? 'GET'} ${path} on the local registry answered ${response.status}: ${(await response.text()).slice(0, 200)}`,
      'The local registry refused the testkit itself; check its auth mode and credentials.',
    );
  }
  return response;
}

export async function uploadBlob(
  registry: LocalRegistry,
  repository: string,
  content: string,
  scopes: string[],
): Promise<string> {
  const digest = sha256(content);
  const start = await registryFetch(registry, `/v2/${repository}/blobs/uploads/`, scopes, { method: 'POST' });
  const location = new URL(start.headers.get('location') ?? '', registry.url);
  location.searchParams.set('digest', digest);
  await registryFetch(registry, location.pathname + location.search, scopes, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: content,
  });
  return digest;
}
