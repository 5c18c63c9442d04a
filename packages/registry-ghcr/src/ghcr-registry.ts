import {
  type AdapterContext,
  adapterId,
  type CallOptions,
  CoreError,
  createRedactingLogger,
  defineRegistry,
  type ImageConfig,
  instantiate,
  onceDisposer,
  type Registry,
  type RegistryObservation,
  type RepositoryParams,
  silentLogger,
  throwIfAborted,
  type WebhookRequest,
} from '@docker-watcher/core';
import {
  type ApiIdentity,
  apiDetails,
  createApiClient,
  createOciRegistry,
  delegateToOci,
  nextLink,
  type OciRegistryStats,
} from '@docker-watcher/registry-oci';
import type * as v from 'valibot';
import { eventOf, parsePackageEvent, verifyDelivery } from './_webhook.ts';
import { type GhcrRegistryOptions, ghcrRegistryOptions } from './options.ts';

/** One tagged version of a container package, as GitHub's packages API lists it. */
export interface GhcrPackageVersion {
  /** GitHub's id of the package version. */
  readonly id: number;
  /** The manifest digest (a container version's `name`). */
  readonly digest: string;
  /** `metadata.container.tags`: never empty here (untagged versions are skipped). */
  readonly tags: readonly string[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface GhcrRegistryStats extends OciRegistryStats {
  /** Requests to the GitHub REST API (not counted in `requests`). */
  readonly apiRequests: number;
}

export interface GhcrRegistry extends Registry {
  readImageConfig(params: Parameters<NonNullable<Registry['readImageConfig']>>[0]): Promise<ImageConfig>;
  /**
   * Tagged versions of a container package from the GitHub REST API, newest first as GitHub orders
   * them; untagged versions (platform manifests, attestations) are skipped. Needs `token`.
   * Unknown package: `NOT_FOUND`.
   */
  listPackageVersions(params: RepositoryParams): Promise<GhcrPackageVersion[]>;
  stats(): GhcrRegistryStats;
}

type ParsedOptions = v.InferOutput<typeof ghcrRegistryOptions>;

const repositoryPattern = /^[a-z0-9][a-z0-9-]*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)+$/;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function buildGhcrRegistry(options: ParsedOptions, context: AdapterContext): GhcrRegistry {
  const id = adapterId('registry', 'ghcr', context.instance);
  const registryUrl = options.registryUrl.replace(/\/$/, '');
  const identity: ApiIdentity = { id, url: registryUrl };
  const secrets = [options.token, options.webhookSecret].filter(
    (value): value is string => value !== undefined,
  );
  const logger = createRedactingLogger(context.logger ?? silentLogger, { secrets }).child({ registry: id });
  // ghcr.io answers with a Bearer challenge naming https://ghcr.io/token: anonymous tokens for public
  // images, `username:PAT` for private ones. The OCI adapter does that exchange.
  const oci = createOciRegistry(
    {
      url: registryUrl,
      ...(options.username && options.token ? { username: options.username, password: options.token } : {}),
      pageSize: options.pageSize,
      maxPages: options.maxPages,
      timeoutMs: options.timeoutMs,
    },
    { logger, instance: context.instance ? `ghcr-${context.instance}` : 'ghcr' },
  );
  const apiBase = new URL(options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`);
  const apiIdentity: ApiIdentity = { id, url: apiBase.href.replace(/\/$/, '') };
  const counters = { requests: 0 };
  const lifetime = new AbortController();
  const api = createApiClient({
    identity: apiIdentity,
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    authorizedOrigin: apiBase.origin,
    headers: { accept: 'application/vnd.github+json', 'x-github-api-version': '2022-11-28' },
    timeoutMs: options.timeoutMs,
    lifetime: lifetime.signal,
    counters,
    logger,
  });
  const ownerPaths = new Map<string, 'orgs' | 'users'>();

  const lifecycle = onceDisposer(async () => {
    lifetime.abort();
    await oci.dispose();
  });

  const guard = (signal: AbortSignal | undefined, operation: string) => {
    throwIfAborted(signal);
    if (lifecycle.disposed()) {
      throw new CoreError('UNAVAILABLE', `${id} is disposed`, {
        details: apiDetails(identity, { operation }),
        retryable: false,
      });
    }
  };

  /** Every page of one owner path; `undefined` when the path answers 404. */
  const versionsAt = async (
    path: 'orgs' | 'users',
    owner: string,
    image: string,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<GhcrPackageVersion[] | undefined> => {
    let url: URL | undefined = new URL(
      `${path}/${encodeURIComponent(owner)}/packages/container/${encodeURIComponent(image)}/versions`,
      apiBase,
    );
    url.searchParams.set('per_page', String(options.apiPageSize));
    url.searchParams.set('state', 'active');
    const versions: GhcrPackageVersion[] = [];
    const visited = new Set<string>();
    for (let page = 1; url; page++) {
      if (page > options.maxPages || visited.has(url.href)) {
        throw new CoreError(
          'BAD_RESPONSE',
          `${apiIdentity.id} (${apiIdentity.url}) kept linking to further pages of ${what}: stopped after ${page - 1} pages`,
          { details: apiDetails(apiIdentity, { operation: what, maxPages: options.maxPages }) },
        );
      }
      visited.add(url.href);
      const response = await api({ url, what, signal });
      if (response.status === 404) return page === 1 ? undefined : versions;
      const items = response.body;
      if (!Array.isArray(items) || !items.every((item) => isObject(item) && typeof item.name === 'string')) {
        throw new CoreError(
          'BAD_RESPONSE',
          `${apiIdentity.id} (${apiIdentity.url}) answered ${what} with JSON that is not a list of package versions`,
          { details: apiDetails(apiIdentity, { operation: what }) },
        );
      }
      if (items.length === 0) break;
      for (const item of items as Array<Record<string, unknown>>) {
        const metadata = isObject(item.metadata) ? item.metadata : {};
        const container = isObject(metadata.container) ? metadata.container : {};
        const tags = Array.isArray(container.tags)
          ? container.tags.filter((tag): tag is string => typeof tag === 'string' && tag !== '')
          : [];
        if (tags.length === 0) continue;
        versions.push({
          id: typeof item.id === 'number' ? item.id : 0,
          digest: String(item.name),
          tags,
          createdAt: typeof item.created_at === 'string' ? item.created_at : '',
          updatedAt: typeof item.updated_at === 'string' ? item.updated_at : '',
        });
      }
      const next = nextLink(response.headers.get('link'), url);
      // The token goes to the API's origin only: a link elsewhere is not followed.
      if (next && next.origin !== apiBase.origin) {
        throw new CoreError(
          'BAD_RESPONSE',
          `${apiIdentity.id} (${apiIdentity.url}) linked ${what} to another host (${next.origin})`,
          { details: apiDetails(apiIdentity, { operation: what, host: next.origin }) },
        );
      }
      url = next;
    }
    return versions;
  };

  const listPackageVersions: GhcrRegistry['listPackageVersions'] = async ({ repository, signal }) => {
    guard(signal, 'listPackageVersions');
    const name = repository.toLowerCase();
    if (!repositoryPattern.test(name)) {
      throw new CoreError('BAD_REQUEST', `${id}: ${JSON.stringify(repository)} is not an owner/image name`, {
        details: apiDetails(apiIdentity, { repository }),
      });
    }
    const [owner = '', ...rest] = name.split('/');
    const image = rest.join('/');
    const what = `versions of container package ${name}`;
    const known = ownerPaths.get(owner);
    const paths: Array<'orgs' | 'users'> =
      options.ownerType === 'org'
        ? ['orgs']
        : options.ownerType === 'user'
          ? ['users']
          : known
            ? [known]
            : ['orgs', 'users'];
    for (const path of paths) {
      const versions = await versionsAt(path, owner, image, what, signal);
      if (versions === undefined) continue;
      ownerPaths.set(owner, path);
      logger.debug('listed package versions', { repository: name, versions: versions.length, owner: path });
      return versions;
    }
    throw new CoreError(
      'NOT_FOUND',
      `${apiIdentity.id} (${apiIdentity.url}) has no container package ${name} (or the token may not read it)`,
      { details: apiDetails(apiIdentity, { operation: what, repository: name, status: 404 }) },
    );
  };

  const parseWebhook = async (
    request: WebhookRequest,
    callOptions: CallOptions = {},
  ): Promise<RegistryObservation[]> => {
    guard(callOptions.signal, 'parseWebhook');
    const secret = options.webhookSecret;
    if (secret === undefined) {
      throw new CoreError('UNSUPPORTED', `${id} has no webhookSecret option`, {
        details: apiDetails(identity),
      });
    }
    verifyDelivery(request, secret, identity);
    const event = eventOf(request);
    if (event === undefined) {
      throw new CoreError('BAD_REQUEST', `Webhook for ${id} names no event (X-GitHub-Event)`, {
        details: apiDetails(identity),
      });
    }
    if (event !== 'package' && event !== 'registry_package') {
      logger.debug('ignored a webhook event', { event });
      return [];
    }
    // Repeats (a multi-arch burst, a delivery sent again) share an eventId: the engine drops them
    // once it recorded the first, so a delivery sent again after a failure is never lost here.
    const observations = parsePackageEvent(request.body, event, identity);
    logger.debug('parsed a package webhook', { event, observations: observations.length });
    return observations;
  };

  const registry: GhcrRegistry = {
    id,
    capabilities: { imageConfig: true, webhooks: options.webhookSecret !== undefined, platforms: true },
    ...delegateToOci(oci, id),
    listPackageVersions,
    stats: () => ({ ...oci.stats(), apiRequests: counters.requests }),
    dispose: lifecycle.dispose,
  };
  if (options.webhookSecret !== undefined) registry.parseWebhook = parseWebhook;
  return registry;
}

/** The definition the server composes: name `ghcr`, options schema, secret option names. */
export const ghcrRegistry = defineRegistry({
  name: 'ghcr',
  options: ghcrRegistryOptions,
  secrets: ['token', 'webhookSecret'],
  create: buildGhcrRegistry,
});

/** An adapter for GitHub Container Registry (ghcr.io); options are validated here. */
export function createGhcrRegistry(
  options: GhcrRegistryOptions = {},
  context: AdapterContext = {},
): GhcrRegistry {
  return instantiate(ghcrRegistry, options, context);
}
