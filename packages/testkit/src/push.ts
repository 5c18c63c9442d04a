import type Docker from 'dockerode';
import { registryFetch, sha256, uploadBlob } from './_registry-api.ts';
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
