import { createHash } from 'node:crypto';
import type { InstanceSpec, Release } from '@docker-watcher/core';

/** Labels every container the target creates carries; `list` and adoption after a restart read them. */
export const labels = {
  managed: 'docker-watcher.managed',
  project: 'docker-watcher.project',
  stage: 'docker-watcher.stage',
  release: 'docker-watcher.release',
  digest: 'docker-watcher.digest',
  deployId: 'docker-watcher.deploy-id',
  image: 'docker-watcher.image',
  port: 'docker-watcher.port',
  /** The server (or script) that made the container: two on one engine keep to their own. */
  instance: 'docker-watcher.instance',
} as const;

/** Lower-case letters, digits and `.`, `_`, `-`; anything else becomes `-`, runs collapse. */
export function sanitize(value: string, maxLength: number): string {
  const cleaned = value
    .toLowerCase()
    .replace(/[^a-z0-9_.-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, maxLength)
    .replace(/[^a-z0-9]+$/, '');
  return cleaned === '' ? 'x' : cleaned;
}

/** The first 12 hex digits of a `sha256:` digest, as `docker images` shows them. */
export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

/** Sanitized tag + short digest, so a re-pushed tag gets a new name. */
export function releaseSlug(release: Release): string {
  return `${sanitize(release.tag, 40)}-${shortDigest(release.digest)}`;
}

/** `dw-{project}-{stage}-{release}`: the name a deploy's container gets when it is free. */
export function containerName(spec: Pick<InstanceSpec, 'project' | 'stage' | 'release'>): string {
  return `dw-${sanitize(spec.project, 40)}-${sanitize(spec.stage, 20)}-${releaseSlug(spec.release)}`;
}

/**
 * The name for a second deploy of the same release while the first still runs (a blue-green redeploy):
 * the deterministic name plus a hash of the deploy id, so a retried start of that deploy finds it.
 */
export function alternateContainerName(
  spec: Pick<InstanceSpec, 'project' | 'stage' | 'release' | 'deployId'>,
): string {
  const hash = createHash('sha256').update(spec.deployId).digest('hex').slice(0, 8);
  return `${containerName(spec)}-${hash}`;
}

/** The labels of a new container, the extra ones first so that the target's own always win. */
export function containerLabels(
  spec: InstanceSpec,
  port: number | undefined,
  extra: Readonly<Record<string, string>> = {},
  instance?: string,
): Record<string, string> {
  return {
    ...extra,
    ...(instance === undefined ? {} : { [labels.instance]: instance }),
    [labels.managed]: 'true',
    [labels.project]: spec.project,
    [labels.stage]: spec.stage,
    [labels.release]: spec.release.tag,
    [labels.digest]: spec.release.digest,
    [labels.deployId]: spec.deployId,
    [labels.image]: spec.image,
    ...(port === undefined ? {} : { [labels.port]: String(port) }),
  };
}

/** Label filters for `GET /containers/json`: managed ones, optionally of one project or stage. */
export function managedFilters(params: {
  readonly project?: string;
  readonly stage?: string;
  readonly deployId?: string;
}): string[] {
  return [
    `${labels.managed}=true`,
    ...(params.project === undefined ? [] : [`${labels.project}=${params.project}`]),
    ...(params.stage === undefined ? [] : [`${labels.stage}=${params.stage}`]),
    ...(params.deployId === undefined ? [] : [`${labels.deployId}=${params.deployId}`]),
  ];
}

/**
 * Whether a managed container is this target's. With an instance: it carries this instance's label,
 * or none (made before instances were labelled: an upgrade adopts its stages, and their next deploy
 * replaces them with labelled containers). Without one (a script of the SDK): every managed container.
 */
export function ownedBy(
  containerLabels: Readonly<Record<string, string>> | undefined,
  instance: string | undefined,
): boolean {
  const owner = containerLabels?.[labels.instance];
  return instance === undefined || owner === undefined || owner === instance;
}

/** A valid repository path component: lower-case letters and digits joined by single `-`. */
export function nameComponent(value: string): string {
  const cleaned = value
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/, '');
  return cleaned === '' ? 'x' : cleaned;
}

/** Local repository that marks images the target pulled for a project-stage, for `prune`. */
export function markerRepository(project: string, stage: string): string {
  return `${markerPrefix}${nameComponent(project)}/${nameComponent(stage)}`;
}

export const markerPrefix = 'docker-watcher-pulled/';

/** `{pulled at, ms}-{release slug}`: sorts by pull time as text, for 300 years. */
export function markerTag(release: Release, pulledAt: number): string {
  return `${String(pulledAt).padStart(14, '0')}-${releaseSlug(release)}`;
}

export function parseMarkerTag(tag: string): { pulledAt: number } | undefined {
  const match = /^(\d{14})-/.exec(tag);
  return match?.[1] === undefined ? undefined : { pulledAt: Number(match[1]) };
}
