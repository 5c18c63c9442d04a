import { createHash } from 'node:crypto';
import type { Platform } from '@docker-watcher/core';
import type { LocalRegistry } from '@docker-watcher/testkit';

const sha256 = (data: string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function put(
  registry: LocalRegistry,
  path: string,
  scopes: string[],
  init: RequestInit,
): Promise<Response> {
  const headers = new Headers(init.headers);
  const authorization = registry.authorization(scopes);
  if (authorization) headers.set('authorization', authorization);
  const response = await fetch(new URL(path, registry.url), { ...init, headers });
  if (response.status >= 400) {
    throw new Error(
      `${init.method} ${path} answered ${response.status}: ${(await response.text()).slice(0, 200)}`,
    );
  }
  return response;
}

async function uploadBlob(registry: LocalRegistry, repository: string, content: string): Promise<string> {
  const scopes = [`repository:${repository}:pull,push`];
  const digest = sha256(content);
  const start = await put(registry, `/v2/${repository}/blobs/uploads/`, scopes, { method: 'POST' });
  const location = new URL(start.headers.get('location') ?? '', registry.url);
  location.searchParams.set('digest', digest);
  await put(registry, location.pathname + location.search, scopes, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream' },
    body: content,
  });
  return digest;
}

export interface IndexImage {
  readonly labels?: Readonly<Record<string, string>>;
  readonly exposedPorts?: readonly number[];
  /** Makes the pushed manifests differ from earlier pushes of the same content. */
  readonly variant?: string;
}

export interface PushedIndex {
  readonly digest: string;
  readonly platforms: ReadonlyArray<Platform & { readonly digest: string }>;
}

/**
 * Pushes an OCI image index with one small image per platform (the testkit's synthetic pushes make
 * single-platform images only). Each platform's config names its os/architecture and `exposedPorts`.
 */
export async function pushIndex(
  registry: LocalRegistry,
  repository: string,
  tag: string,
  platforms: readonly Platform[],
  image: IndexImage = {},
): Promise<PushedIndex> {
  const scopes = [`repository:${repository}:pull,push`];
  const entries: Array<Platform & { digest: string; size: number }> = [];
  for (const platform of platforms) {
    const config = JSON.stringify({
      architecture: platform.architecture,
      os: platform.os,
      ...(platform.variant ? { variant: platform.variant } : {}),
      config: {
        Labels: {
          ...image.labels,
          'docker-watcher.test.platform': `${platform.os}/${platform.architecture}`,
        },
        ExposedPorts: Object.fromEntries((image.exposedPorts ?? [8080]).map((port) => [`${port}/tcp`, {}])),
      },
      rootfs: { type: 'layers', diff_ids: [] },
    });
    const configDigest = await uploadBlob(registry, repository, config);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: Buffer.byteLength(config),
      },
      layers: [],
      annotations: { 'docker-watcher.test.variant': image.variant ?? '' },
    });
    const digest = sha256(manifest);
    await put(registry, `/v2/${repository}/manifests/${digest}`, scopes, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: manifest,
    });
    entries.push({ ...platform, digest, size: Buffer.byteLength(manifest) });
  }
  const index = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: entries.map((entry) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: entry.digest,
      size: entry.size,
      platform: {
        os: entry.os,
        architecture: entry.architecture,
        ...(entry.variant ? { variant: entry.variant } : {}),
      },
    })),
  });
  const response = await put(registry, `/v2/${repository}/manifests/${tag}`, scopes, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
    body: index,
  });
  return {
    digest: response.headers.get('docker-content-digest') ?? sha256(index),
    platforms: entries.map(({ size: _size, ...platform }) => platform),
  };
}
