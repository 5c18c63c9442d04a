import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { dockerClient } from './docker-client.ts';
import type { LocalRegistry } from './registry.ts';
import { TestkitError } from './testkit-error.ts';

export interface PushedTag {
  repository: string;
  tag: string;
  /** The manifest digest the registry stored. */
  digest: string;
}

function followPush(docker: Docker, stream: NodeJS.ReadableStream): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    let digest: string | undefined;
    docker.modem.followProgress(
      stream,
      (error: Error | null) => (error ? reject(error) : resolve(digest)),
      (event: { error?: string; errorDetail?: { message?: string }; aux?: { Digest?: string } }) => {
        if (event.error) reject(new Error(event.errorDetail?.message ?? event.error));
        if (event.aux?.Digest) digest = event.aux.Digest;
      },
    );
  });
}

/**
 * Pushes a local image (e.g. `dw-testkit/app:v1`) to the registry as `repository:tag` through the
 * Docker Engine, as CI would. The temporary local tag is removed again.
 */
export async function pushImage(
  registry: LocalRegistry,
  params: { source: string; repository: string; tag: string },
  docker: Docker = dockerClient(),
): Promise<PushedTag> {
  const target = `${registry.host}/${params.repository}`;
  await docker.getImage(params.source).tag({ repo: target, tag: params.tag });
  try {
    const authconfig = registry.credentials
      ? {
          username: registry.credentials.username,
          password: registry.credentials.password,
          serveraddress: registry.host,
        }
      : {};
    const stream = await docker.getImage(`${target}:${params.tag}`).push({ authconfig });
    const digest = await followPush(docker, stream);
    if (!digest) throw new Error('the engine reported no digest');
    return { repository: params.repository, tag: params.tag, digest };
  } catch (error) {
    throw new TestkitError(
      `Pushing ${params.source} to ${target}:${params.tag} failed: ${(error as Error).message}`,
      'Check that the local registry runs and that its credentials are right.',
      { cause: error },
    );
  } finally {
    await docker
      .getImage(`${target}:${params.tag}`)
      .remove({ noprune: true })
      .catch(() => undefined);
  }
}

const sha256 = (data: Uint8Array | string) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function registryFetch(
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

async function uploadBlob(
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

/**
 * Pushes small synthetic images straight through the registry API: one config blob, then one
 * manifest per tag (distinct by annotation, so every tag has its own digest). Fast enough for
 * hundreds of tags; the registry cannot tell them from CI pushes.
 */
export async function pushSyntheticTags(
  registry: LocalRegistry,
  repository: string,
  tags: readonly string[],
  options: { labels?: Record<string, string>; variant?: string } = {},
): Promise<PushedTag[]> {
  const scopes = [`repository:${repository}:pull,push`];
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config: { Labels: options.labels ?? {}, ExposedPorts: { '8080/tcp': {} } },
    rootfs: { type: 'layers', diff_ids: [] },
  });
  const configDigest = await uploadBlob(registry, repository, config, scopes);
  const pushed: PushedTag[] = [];
  for (const tag of tags) {
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: Buffer.byteLength(config),
      },
      layers: [],
      annotations: {
        'org.opencontainers.image.ref.name': tag,
        'docker-watcher.testkit.variant': options.variant ?? '',
      },
    });
    const response = await registryFetch(registry, `/v2/${repository}/manifests/${tag}`, scopes, {
      method: 'PUT',
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: manifest,
    });
    pushed.push({
      repository,
      tag,
      digest: response.headers.get('docker-content-digest') ?? sha256(manifest),
    });
  }
  return pushed;
}
