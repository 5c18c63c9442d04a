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
  type OciRegistryStats,
} from '@docker-watcher/registry-oci';
import type * as v from 'valibot';
import { eventOf, parsePackageEvent, verifyDelivery } from './_webhook.ts';
import { type GiteaRegistryOptions, giteaRegistryOptions } from './options.ts';

/** One tagged version of a container package, as Gitea's packages API lists it. */
export interface GiteaPackageVersion {
  /** The tag (Gitea stores it lower-cased). */
  readonly tag: string;
  /** Gitea's id of the package version. */
  readonly id: number;
  /** When the tag was pushed (ISO 8601), as Gitea reports it. */
  readonly createdAt: string;
}

export interface GiteaRegistryStats extends OciRegistryStats {
  /** Requests to Gitea's packages API (not counted in `requests`). */
  readonly apiRequests: number;
}

export interface GiteaRegistry extends Registry {
  readImageConfig(params: Parameters<NonNullable<Registry['readImageConfig']>>[0]): Promise<ImageConfig>;
  /**
   * Tagged versions of a container package from Gitea's packages API, newest push first (untagged
   * `sha256:` versions left out). Costs a request per 50 versions; `listTags` costs one per poll.
   * Unknown package: `NOT_FOUND`.
   */
  listPackageVersions(params: RepositoryParams): Promise<GiteaPackageVersion[]>;
  stats(): GiteaRegistryStats;
}

type ParsedOptions = v.InferOutput<typeof giteaRegistryOptions>;

const repositoryPattern = /^[a-z0-9][a-z0-9._-]*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)+$/;
const defaultUsername = 'docker-watcher';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function buildGiteaRegistry(options: ParsedOptions, context: AdapterContext): GiteaRegistry {
  const id = adapterId('registry', 'gitea', context.instance);
  const base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
  const identity: ApiIdentity = { id, url: base.href.replace(/\/$/, '') };
  const where = `${id} (${identity.url})`;
  const secrets = [options.token, options.webhookSecret].filter(
    (value): value is string => value !== undefined,
  );
  const logger = createRedactingLogger(context.logger ?? silentLogger, { secrets }).child({ registry: id });
  const innerInstance = context.instance ? `gitea-${context.instance}` : 'gitea';
  // Gitea's registry answers `/v2/` with a Bearer challenge whose realm is its `/v2/token`: the OCI
  // adapter learns it from there and trades `username:token` for registry tokens.
  const oci = createOciRegistry(
    {
      url: options.registryUrl ?? options.url,
      ...(options.token ? { username: options.username ?? defaultUsername, password: options.token } : {}),
      pageSize: options.pageSize,
      maxPages: options.maxPages,
      timeoutMs: options.timeoutMs,
    },
    { logger, instance: innerInstance },
  );
  const counters = { requests: 0 };
  const lifetime = new AbortController();
  const apiBase = new URL('api/v1/', base);
  const api = createApiClient({
    identity,
    ...(options.token ? { authorization: `token ${options.token}` } : {}),
    authorizedOrigin: apiBase.origin,
    timeoutMs: options.timeoutMs,
    lifetime: lifetime.signal,
    counters,
    logger,
  });

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

  const listPackageVersions: GiteaRegistry['listPackageVersions'] = async ({ repository, signal }) => {
    guard(signal, 'listPackageVersions');
    const name = repository.toLowerCase();
    if (!repositoryPattern.test(name)) {
      throw new CoreError('BAD_REQUEST', `${id}: ${JSON.stringify(repository)} is not an owner/image name`, {
        details: apiDetails(identity, { repository }),
      });
    }
    const [owner = '', ...rest] = name.split('/');
    const image = rest.join('/');
    const what = `versions of container package ${name}`;
    const versions: GiteaPackageVersion[] = [];
    const tags = new Set<string>();
    let listed = 0;
    for (let page = 1; ; page++) {
      if (page > options.maxPages) {
        throw new CoreError(
          'BAD_RESPONSE',
          `${where} kept answering further pages of ${what}: stopped after ${options.maxPages} pages`,
          { details: apiDetails(identity, { operation: what, maxPages: options.maxPages }) },
        );
      }
      const url = new URL(
        `packages/${encodeURIComponent(owner)}/container/${encodeURIComponent(image)}`,
        apiBase,
      );
      url.searchParams.set('page', String(page));
      url.searchParams.set('limit', String(options.apiPageSize));
      const response = await api({ url, what, signal });
      if (response.status === 404) {
        throw new CoreError('NOT_FOUND', `${where} has no container package ${name}`, {
          details: apiDetails(identity, { operation: what, repository: name, status: 404 }),
        });
      }
      const items = response.body;
      if (
        !Array.isArray(items) ||
        !items.every((item) => isObject(item) && typeof item.version === 'string')
      ) {
        throw new CoreError(
          'BAD_RESPONSE',
          `${where} answered ${what} with JSON that is not a list of packages`,
          {
            details: apiDetails(identity, { operation: what }),
          },
        );
      }
      if (items.length === 0) break;
      listed += items.length;
      for (const item of items as Array<Record<string, unknown>>) {
        const version = String(item.version).toLowerCase();
        // Every pushed manifest is a version; platform manifests and attestations have no tag.
        if (version.startsWith('sha256:') || tags.has(version)) continue;
        if (item.type !== undefined && item.type !== 'container') continue;
        tags.add(version);
        versions.push({
          tag: version,
          id: typeof item.id === 'number' ? item.id : 0,
          createdAt: typeof item.created_at === 'string' ? item.created_at : '',
        });
      }
      // Gitea caps `limit` at MAX_RESPONSE_ITEMS, so a short page is no proof of the end: trust the
      // total when sent, else read on to the first empty page.
      const total = Number(response.headers.get('x-total-count'));
      if (response.headers.has('x-total-count') && Number.isFinite(total) && listed >= total) break;
    }
    logger.debug('listed package versions', { repository: name, versions: versions.length });
    return versions.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
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
    const payload = verifyDelivery(request, secret, identity);
    const event = eventOf(request);
    if (event === undefined) {
      throw new CoreError('BAD_REQUEST', `Webhook for ${id} names no event (X-Gitea-Event)`, {
        details: apiDetails(identity),
      });
    }
    if (event !== 'package') {
      logger.debug('ignored a webhook event', { event });
      return [];
    }
    // Repeats are the engine's to drop (by eventId, once it recorded them): dropping them here too
    // would lose a delivery the registry sent again because the first one could not be recorded.
    const observations = parsePackageEvent(payload, identity);
    logger.debug('parsed a package webhook', { observations: observations.length });
    return observations;
  };

  const registry: GiteaRegistry = {
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

/** The definition the server composes: name `gitea`, options schema, secret option names. */
export const giteaRegistry = defineRegistry({
  name: 'gitea',
  options: giteaRegistryOptions,
  secrets: ['token', 'webhookSecret'],
  create: buildGiteaRegistry,
});

/** An adapter for a Gitea or Forgejo instance's container registry; options are validated here. */
export function createGiteaRegistry(
  options: GiteaRegistryOptions,
  context: AdapterContext = {},
): GiteaRegistry {
  return instantiate(giteaRegistry, options, context);
}
