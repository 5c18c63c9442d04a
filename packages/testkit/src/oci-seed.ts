// Multi-platform images pushed straight through a local registry's API, for the registry adapters' tests.
import { randomUUID } from 'node:crypto';
import { registryFetch, sha256, uploadBlob } from './_registry-api.ts';
import { pushSyntheticTags } from './push.ts';
import type { LocalRegistry } from './registry.ts';

/** One platform of an index (the shape of core's `Platform`). */
export interface IndexPlatform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

export interface IndexImage {
  readonly labels?: Readonly<Record<string, string>>;
  readonly exposedPorts?: readonly number[];
  /** Makes the pushed manifests differ from earlier pushes of the same content. */
  readonly variant?: string;
}

export interface PushedIndex {
  readonly digest: string;
  readonly platforms: ReadonlyArray<IndexPlatform & { readonly digest: string }>;
}

/**
 * Pushes an OCI image index with one small image per platform (the testkit's synthetic pushes make
 * single-platform images only). Each platform's config names its os/architecture and `exposedPorts`.
 */
export async function pushIndex(
  registry: LocalRegistry,
  repository: string,
  tag: string,
  platforms: readonly IndexPlatform[],
  image: IndexImage = {},
): Promise<PushedIndex> {
  const scopes = [`repository:${repository}:pull,push`];
  const entries: Array<IndexPlatform & { digest: string; size: number }> = [];
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
    const configDigest = await uploadBlob(registry, repository, config, scopes);
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
    await registryFetch(registry, `/v2/${repository}/manifests/${digest}`, scopes, {
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
  const response = await registryFetch(registry, `/v2/${repository}/manifests/${tag}`, scopes, {
    method: 'PUT',
    headers: { 'content-type': 'application/vnd.oci.image.index.v1+json' },
    body: index,
  });
  return {
    digest: response.headers.get('docker-content-digest') ?? sha256(index),
    platforms: entries.map(({ size: _size, ...platform }) => platform),
  };
}

/** What a registry conformance harness seeds (the shape of core's `RegistrySeed`). */
export interface ImageSeed {
  readonly repository: string;
  readonly tags: readonly string[];
  /** When present, every tag is an OCI index of these platforms. */
  readonly platforms?: readonly IndexPlatform[];
  readonly config?: {
    readonly labels: Readonly<Record<string, string>>;
    readonly exposedPorts: readonly number[];
  };
}

/**
 * Seeds a registry harness's tags: an OCI index per tag for `platforms`, otherwise synthetic
 * single-platform images (their config exposes 8080 only). Each call is a fresh variant, so that
 * seeding a tag again moves it to a new digest. Reports the digest of every tag.
 */
export async function seedImages(
  registry: LocalRegistry,
  { repository, tags, platforms, config }: ImageSeed,
): Promise<{ readonly repository: string; readonly digests: Readonly<Record<string, string>> }> {
  const variant = randomUUID();
  const digests: Record<string, string> = {};
  if (platforms) {
    for (const tag of tags) {
      const pushed = await pushIndex(registry, repository, tag, platforms, {
        variant,
        ...(config ? { labels: config.labels, exposedPorts: config.exposedPorts } : {}),
      });
      digests[tag] = pushed.digest;
    }
    return { repository, digests };
  }
  const pushed = await pushSyntheticTags(registry, repository, tags, {
    variant,
    ...(config ? { labels: { ...config.labels } } : {}),
  });
  for (const item of pushed) digests[item.tag] = item.digest;
  return { repository, digests };
}
