import { createHash } from 'node:crypto';
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
  type Platform,
  platformName,
  type Registry,
  type RegistryObservation,
  type ResolvedReference,
  silentLogger,
  throwIfAborted,
  type WebhookRequest,
} from '@docker-watcher/core';
import type * as v from 'valibot';
import { createAuthenticator } from './_auth.ts';
import {
  createTransport,
  type HeaderReader,
  type HttpResponse,
  type RegistryIdentity,
  registryDetails,
  statusError,
} from './_http.ts';
import { nextLink } from './_link.ts';
import { LruMap } from './_lru.ts';
import {
  bareMediaType,
  isIndexType,
  isManifestType,
  manifestAccept,
  ociIndex,
  ociManifest,
} from './_media-types.ts';
import { parseNotificationEnvelope, verifyNotificationHeader } from './_notifications.ts';
import { type OciRegistryOptions, ociRegistryOptions } from './options.ts';

/** What the adapter has sent so far; tests and benchmarks count requests with it. */
export interface OciRegistryStats {
  /** Every HTTP request: registry, token server, and each redirect hop. */
  readonly requests: number;
  /** Of `requests`, those to the token server. */
  readonly tokenRequests: number;
  /** Tag pages the registry answered `304 Not Modified` (served from the adapter's cache). */
  readonly notModified: number;
}

/** The last `RateLimit-*` headers the registry sent (Docker Hub: `ratelimit-remaining: 76;w=21600`). */
export interface OciRateLimit {
  readonly remaining: number;
  readonly limit?: number;
  /** The window the numbers apply to (`w=`), in seconds. */
  readonly windowSeconds?: number;
  /** ISO 8601 time the headers were read. */
  readonly observedAt: string;
}

export interface OciProbe {
  /** The auth scheme the registry asked for on `/v2/`: `none` when it answered without a challenge. */
  readonly auth: 'none' | 'basic' | 'bearer';
  /** `Docker-Distribution-Api-Version`, when sent (`registry/2.0`). */
  readonly apiVersion?: string;
}

export interface OciRegistry extends Registry {
  readImageConfig(params: Parameters<NonNullable<Registry['readImageConfig']>>[0]): Promise<ImageConfig>;
  /** The registry's last reported rate limit, if it reports one. */
  readonly rateLimit: OciRateLimit | undefined;
  stats(): OciRegistryStats;
  /**
   * `GET /v2/`: checks that the URL serves the distribution API and that the credentials work (for a
   * Bearer registry, by fetching a token without scope). Never called by the polling path.
   */
  probe(options?: CallOptions): Promise<OciProbe>;
}

type ParsedOptions = v.InferOutput<typeof ociRegistryOptions>;

interface TagPage {
  readonly etag: string;
  readonly tags: readonly string[];
  readonly next: string | undefined;
}

interface Manifest {
  readonly digest: string;
  readonly mediaType: string;
  readonly document: Record<string, unknown>;
  readonly platforms?: ReadonlyArray<Platform & { readonly digest: string }>;
}

const pathComponent = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const digestPattern = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const sha256Pattern = /^sha256:[a-f0-9]{64}$/;
const repositoryCacheSize = 2048;
const manifestCacheSize = 1024;
const nanosecondsPerMs = 1_000_000;
const userAgent = 'docker-watcher-registry-oci';

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `ratelimit-remaining: 76;w=21600` -> `{ value: 76, window: 21600 }` */
function parseRateLimitHeader(value: string | null): { value: number; window?: number } | undefined {
  const match = value ? /^\s*(\d+)(?:\s*;\s*w\s*=\s*(\d+))?/.exec(value) : null;
  if (!match) return undefined;
  return { value: Number(match[1]), ...(match[2] === undefined ? {} : { window: Number(match[2]) }) };
}

function platformsOf(document: Record<string, unknown>): Array<Platform & { digest: string }> {
  const entries = Array.isArray(document.manifests) ? document.manifests : [];
  const platforms: Array<Platform & { digest: string }> = [];
  for (const entry of entries) {
    if (!isObject(entry) || typeof entry.digest !== 'string' || !isObject(entry.platform)) continue;
    const { os, architecture, variant } = entry.platform;
    if (typeof os !== 'string' || typeof architecture !== 'string') continue;
    // Build attestations (`unknown/unknown`) sit in the index next to the images; they are not platforms.
    const annotations = isObject(entry.annotations) ? entry.annotations : {};
    if (os === 'unknown' || annotations['vnd.docker.reference.type'] === 'attestation-manifest') continue;
    platforms.push({
      os,
      architecture,
      ...(typeof variant === 'string' && variant !== '' ? { variant } : {}),
      digest: entry.digest,
    });
  }
  return platforms;
}

function imageConfigOf(document: Record<string, unknown>): ImageConfig {
  const config = isObject(document.config) ? document.config : {};
  const labels: Record<string, string> = {};
  if (isObject(config.Labels)) {
    for (const [key, value] of Object.entries(config.Labels))
      if (typeof value === 'string') labels[key] = value;
  }
  const ports = new Set<number>();
  if (isObject(config.ExposedPorts)) {
    for (const key of Object.keys(config.ExposedPorts)) {
      const port = Number.parseInt(key, 10);
      if (Number.isInteger(port) && port > 0 && port < 65_536) ports.add(port);
    }
  }
  const health = isObject(config.Healthcheck) ? config.Healthcheck : undefined;
  const test = Array.isArray(health?.Test)
    ? health.Test.filter((part): part is string => typeof part === 'string')
    : [];
  const ms = (value: unknown) =>
    typeof value === 'number' && Number.isFinite(value) && value > 0
      ? Math.round(value / nanosecondsPerMs)
      : undefined;
  const duration = (key: string, value: unknown) => {
    const converted = ms(value);
    return converted === undefined ? {} : { [key]: converted };
  };
  // `["NONE"]` switches an inherited healthcheck off: there is none to report.
  const healthcheck =
    health && test.length > 0 && test[0] !== 'NONE'
      ? {
          test,
          ...duration('intervalMs', health.Interval),
          ...duration('timeoutMs', health.Timeout),
          ...duration('startPeriodMs', health.StartPeriod),
          ...(typeof health.Retries === 'number' && health.Retries > 0 ? { retries: health.Retries } : {}),
        }
      : undefined;
  return {
    labels,
    exposedPorts: [...ports].sort((a, b) => a - b),
    ...(healthcheck ? { healthcheck } : {}),
  };
}

function buildOciRegistry(options: ParsedOptions, context: AdapterContext): OciRegistry {
  const id = adapterId('registry', 'oci', context.instance);
  const base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
  const identity: RegistryIdentity = { id, url: base.href.replace(/\/$/, '') };
  const where = `${id} (${identity.url})`;
  const secrets = [options.password, options.webhook?.secret].filter(
    (value): value is string => value !== undefined,
  );
  const logger = createRedactingLogger(context.logger ?? silentLogger, { secrets }).child({ registry: id });
  const counters = { requests: 0, tokenRequests: 0, notModified: 0 };
  const lifetime = new AbortController();
  const transport = createTransport({
    identity,
    timeoutMs: options.timeoutMs,
    lifetime: lifetime.signal,
    counters,
    logger,
    userAgent,
  });
  const credentials =
    options.username !== undefined && options.password !== undefined
      ? { username: options.username, password: options.password }
      : undefined;
  const auth = createAuthenticator({
    identity,
    transport,
    counters,
    logger,
    ...(credentials ? { credentials } : {}),
  });
  /** Per repository: tag pages that came with an ETag, by page URL, for conditional requests. */
  const tagPages = new LruMap<string, Map<string, TagPage>>(repositoryCacheSize);
  /** Platforms of indexes and configs of images, by digest: content-addressed, so never stale. */
  const platformCache = new LruMap<string, ReadonlyArray<Platform & { readonly digest: string }>>(
    manifestCacheSize,
  );
  const configCache = new LruMap<string, ImageConfig>(manifestCacheSize);
  let rateLimit: OciRateLimit | undefined;

  const lifecycle = onceDisposer(async () => {
    lifetime.abort();
    auth.clear();
    tagPages.clear();
    platformCache.clear();
    configCache.clear();
  });

  const guard = (signal: AbortSignal | undefined, operation: string) => {
    throwIfAborted(signal);
    if (lifecycle.disposed()) {
      throw new CoreError('UNAVAILABLE', `${id} is disposed`, {
        details: registryDetails(identity, { operation }),
        retryable: false,
      });
    }
  };

  const badRequest = (message: string, more: Record<string, unknown>) =>
    new CoreError('BAD_REQUEST', message, { details: registryDetails(identity, more) });

  const repositoryName = (repository: string): string => {
    const name =
      options.defaultNamespace !== undefined && !repository.includes('/')
        ? `${options.defaultNamespace}/${repository}`
        : repository;
    if (!name.split('/').every((part) => pathComponent.test(part))) {
      throw badRequest(
        `"${repository}" is not a repository name: lower-case path components such as team/web-app`,
        { repository },
      );
    }
    return name;
  };

  const checkReference = (reference: string) => {
    if (!tagPattern.test(reference) && !digestPattern.test(reference)) {
      throw badRequest(`"${reference}" is neither a tag nor a digest`, { reference });
    }
  };

  const observeRateLimit = (headers: HeaderReader) => {
    const remaining = parseRateLimitHeader(headers.get('ratelimit-remaining'));
    if (!remaining) return;
    const limit = parseRateLimitHeader(headers.get('ratelimit-limit'));
    const windowSeconds = remaining.window ?? limit?.window;
    rateLimit = {
      remaining: remaining.value,
      ...(limit ? { limit: limit.value } : {}),
      ...(windowSeconds === undefined ? {} : { windowSeconds }),
      observedAt: new Date().toISOString(),
    };
    logger.debug('registry rate limit', { ...rateLimit });
  };

  /** A registry request with auth: the known credentials up front, then at most one answer to a 401. */
  const send = async (request: {
    readonly method: 'GET' | 'HEAD';
    readonly url: URL;
    readonly scope: string | undefined;
    readonly headers?: Readonly<Record<string, string>>;
    readonly signal: AbortSignal | undefined;
    readonly what: string;
  }): Promise<HttpResponse> => {
    const attempt = async (authorization: string | undefined) => {
      const response = await transport({
        method: request.method,
        url: request.url,
        what: request.what,
        ...(request.headers ? { headers: request.headers } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
        ...(authorization ? { authorization, authorizedOrigin: base.origin } : {}),
      });
      observeRateLimit(response.headers);
      return response;
    };
    const sent = await auth.current(request.scope, request.signal);
    const first = await attempt(sent);
    if (first.status !== 401) return first;
    const retry = await auth.answer(
      first.headers.get('www-authenticate'),
      request.scope,
      sent,
      request.signal,
    );
    const second = await attempt(retry);
    if (second.status === 401) {
      throw new CoreError('UNAUTHORIZED', `${where} refused the credentials for ${request.what}`, {
        details: registryDetails(identity, { operation: request.what, status: 401 }),
      });
    }
    return second;
  };

  const endpoint = (path: string) => new URL(path, base);
  const pullScope = (name: string) => `repository:${name}:pull`;

  const parseJson = (response: HttpResponse, what: string): unknown => {
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(response.body));
    } catch (cause) {
      const contentType = bareMediaType(response.headers.get('content-type')) ?? 'none';
      throw new CoreError(
        'BAD_RESPONSE',
        `${where} answered the request for ${what} with a body that is not JSON (content-type ${contentType}, ${response.body.byteLength} bytes)`,
        {
          details: registryDetails(identity, { operation: what, status: response.status, contentType }),
          cause,
        },
      );
    }
  };

  const malformed = (what: string, problem: string) =>
    new CoreError('BAD_RESPONSE', `${where} answered the request for ${what} with ${problem}`, {
      details: registryDetails(identity, { operation: what }),
    });

  const tagsOf = (response: HttpResponse, what: string): string[] => {
    const body = parseJson(response, what);
    const tags = isObject(body) ? body.tags : undefined;
    if (!isObject(body) || (tags !== null && !Array.isArray(tags))) {
      throw malformed(what, 'JSON that is not a tag list ({"name", "tags": [...]})');
    }
    // `tags: null` means no tags (older registries).
    const list: unknown[] = tags ?? [];
    if (!list.every((tag) => typeof tag === 'string' && tag !== '')) {
      throw malformed(what, 'a tag list holding something other than tag names');
    }
    return list as string[];
  };

  const listTags: Registry['listTags'] = async ({ repository, signal }) => {
    guard(signal, 'listTags');
    const name = repositoryName(repository);
    const what = `tags of ${name}`;
    let pages = tagPages.get(name);
    const tags: string[] = [];
    const seen = new Set<string>();
    const visited = new Set<string>();
    const lasts = new Set<string>();
    let url: URL = endpoint(`v2/${name}/tags/list?n=${options.pageSize}`);
    for (let page = 1; ; page++) {
      if (page > options.maxPages) {
        throw new CoreError(
          'BAD_RESPONSE',
          `${where} kept linking to further tag pages of ${name}: stopped after ${options.maxPages} pages`,
          {
            details: registryDetails(identity, {
              operation: what,
              maxPages: options.maxPages,
              tags: tags.length,
            }),
          },
        );
      }
      visited.add(url.href);
      const last = url.searchParams.get('last');
      if (last !== null) lasts.add(last);
      const cached = pages?.get(url.href);
      const response = await send({
        method: 'GET',
        url,
        scope: pullScope(name),
        headers: { accept: 'application/json', ...(cached ? { 'if-none-match': cached.etag } : {}) },
        signal,
        what,
      });
      let pageTags: readonly string[];
      let next: URL | undefined;
      if (response.status === 304 && cached) {
        counters.notModified++;
        pageTags = cached.tags;
        next = cached.next === undefined ? undefined : new URL(cached.next);
      } else if (response.status === 200) {
        pageTags = tagsOf(response, what);
        next = nextLink(response.headers.get('link'), response.url);
        const etag = response.headers.get('etag');
        if (etag) {
          pages ??= new Map();
          pages.set(url.href, { etag, tags: pageTags, next: next?.href });
          tagPages.set(name, pages);
        } else {
          pages?.delete(url.href);
        }
      } else if (response.status === 404) {
        tagPages.delete(name);
        throw new CoreError('NOT_FOUND', `${where} does not know repository ${name}`, {
          details: registryDetails(identity, { operation: what, repository: name, status: 404 }),
        });
      } else {
        throw statusError(identity, response, what);
      }
      let added = 0;
      for (const tag of pageTags) {
        if (seen.has(tag)) continue;
        seen.add(tag);
        tags.push(tag);
        added++;
      }
      // The end: no link, an empty page (Gitea links from its last page too), a page with nothing
      // new, or a link back to a page or `last` already read.
      if (!next || pageTags.length === 0 || added === 0 || visited.has(next.href)) break;
      const nextLast = next.searchParams.get('last');
      if (nextLast !== null && lasts.has(nextLast)) break;
      url = next;
    }
    logger.debug('listed tags', { repository: name, tags: tags.length });
    return tags;
  };

  /** GET of a manifest or index, checked against its digest; `undefined` on 404. */
  const readManifest = async (
    name: string,
    reference: string,
    signal: AbortSignal | undefined,
  ): Promise<Manifest | undefined> => {
    const what = `manifest ${name}${reference.includes(':') ? '@' : ':'}${reference}`;
    const response = await send({
      method: 'GET',
      url: endpoint(`v2/${name}/manifests/${reference}`),
      scope: pullScope(name),
      headers: { accept: manifestAccept },
      signal,
      what,
    });
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw statusError(identity, response, what);
    const document = parseJson(response, what);
    if (!isObject(document)) throw malformed(what, 'JSON that is not a manifest');
    const digest = sha256(response.body);
    const announced = response.headers.get('docker-content-digest')?.trim();
    const expected = sha256Pattern.test(reference)
      ? reference
      : announced && sha256Pattern.test(announced)
        ? announced
        : undefined;
    if (expected !== undefined && expected !== digest) {
      throw malformed(what, `a body whose digest ${digest} is not ${expected}`);
    }
    const headerType = bareMediaType(response.headers.get('content-type'));
    const mediaType = isManifestType(headerType)
      ? (headerType as string)
      : typeof document.mediaType === 'string'
        ? document.mediaType
        : Array.isArray(document.manifests)
          ? ociIndex
          : ociManifest;
    if (!isIndexType(mediaType)) return { digest, mediaType, document };
    const platforms = platformsOf(document);
    platformCache.set(digest, platforms);
    return { digest, mediaType, document, platforms };
  };

  const resolveReference: Registry['resolveReference'] = async ({ repository, reference, signal }) => {
    guard(signal, 'resolveReference');
    const name = repositoryName(repository);
    checkReference(reference);
    const what = `manifest ${name}${reference.includes(':') ? '@' : ':'}${reference}`;
    const head = await send({
      method: 'HEAD',
      url: endpoint(`v2/${name}/manifests/${reference}`),
      scope: pullScope(name),
      headers: { accept: manifestAccept },
      signal,
      what,
    });
    if (head.status === 404) return undefined;
    if (head.status !== 200) throw statusError(identity, head, what);
    const digest = head.headers.get('docker-content-digest')?.trim();
    const mediaType = bareMediaType(head.headers.get('content-type'));
    if (digest && sha256Pattern.test(digest) && isManifestType(mediaType)) {
      if (sha256Pattern.test(reference) && digest !== reference) {
        throw malformed(what, `the digest ${digest} for a request by digest`);
      }
      if (!isIndexType(mediaType)) return { digest, mediaType: mediaType as string };
      const platforms = platformCache.get(digest) ?? (await readManifest(name, digest, signal))?.platforms;
      if (platforms === undefined) return undefined;
      return {
        digest,
        mediaType: mediaType as string,
        platforms: platforms.map((platform) => ({ ...platform })),
      };
    }
    // No usable `Docker-Content-Digest` (only a SHOULD before distribution-spec 1.1.1): hash the body.
    logger.debug('HEAD gave no usable digest; reading the manifest', { repository: name, reference });
    const manifest = await readManifest(name, reference, signal);
    if (!manifest) return undefined;
    const resolved: ResolvedReference = {
      digest: manifest.digest,
      mediaType: manifest.mediaType,
      ...(manifest.platforms ? { platforms: manifest.platforms.map((platform) => ({ ...platform })) } : {}),
    };
    return resolved;
  };

  const selectPlatform = (
    name: string,
    digest: string,
    platforms: ReadonlyArray<Platform & { readonly digest: string }>,
    wanted: Platform | undefined,
  ): Platform & { readonly digest: string } => {
    const available = platforms.map(platformName).join(', ') || 'none';
    if (wanted) {
      const found = platforms.find(
        (entry) =>
          entry.os === wanted.os &&
          entry.architecture === wanted.architecture &&
          (wanted.variant === undefined || entry.variant === wanted.variant),
      );
      if (!found) {
        throw new CoreError(
          'NOT_FOUND',
          `Image index ${name}@${digest} has no ${platformName(wanted)} image (it has: ${available})`,
          {
            details: registryDetails(identity, {
              repository: name,
              digest,
              platform: platformName(wanted),
              available,
            }),
          },
        );
      }
      return found;
    }
    const [only, ...others] = platforms;
    if (only && others.length === 0) return only;
    throw badRequest(
      `Image index ${name}@${digest} has several platforms (${available}): name one with the platform option or parameter`,
      { repository: name, digest, available },
    );
  };

  const readBlob = async (
    name: string,
    digest: string,
    signal: AbortSignal | undefined,
  ): Promise<HttpResponse> => {
    const what = `blob ${name}@${digest}`;
    const response = await send({
      method: 'GET',
      url: endpoint(`v2/${name}/blobs/${digest}`),
      scope: pullScope(name),
      signal,
      what,
    });
    if (response.status === 404) {
      throw new CoreError('NOT_FOUND', `${where} does not know ${what}`, {
        details: registryDetails(identity, { operation: what, status: 404 }),
      });
    }
    if (response.status !== 200) throw statusError(identity, response, what);
    if (sha256Pattern.test(digest) && sha256(response.body) !== digest) {
      throw malformed(what, 'a body that does not match its digest');
    }
    return response;
  };

  const readImageConfig: OciRegistry['readImageConfig'] = async ({
    repository,
    digest,
    platform,
    signal,
  }) => {
    guard(signal, 'readImageConfig');
    const name = repositoryName(repository);
    checkReference(digest);
    const wanted = platform ?? options.platform;
    const key = `${digest} ${wanted ? platformName(wanted) : ''}`;
    const cached = configCache.get(key);
    if (cached) return structuredClone(cached);
    const notFound = (reference: string) =>
      new CoreError('NOT_FOUND', `${where} does not know image ${name}@${reference}`, {
        details: registryDetails(identity, { repository: name, digest: reference }),
      });
    let manifest = await readManifest(name, digest, signal);
    if (!manifest) throw notFound(digest);
    if (manifest.platforms) {
      const entry = selectPlatform(name, manifest.digest, manifest.platforms, wanted);
      manifest = await readManifest(name, entry.digest, signal);
      if (!manifest) throw notFound(entry.digest);
      if (manifest.platforms) throw malformed(`manifest ${name}@${entry.digest}`, 'an index inside an index');
    }
    const descriptor = isObject(manifest.document.config) ? manifest.document.config : undefined;
    const configDigest = descriptor?.digest;
    if (typeof configDigest !== 'string' || !digestPattern.test(configDigest)) {
      throw malformed(`manifest ${name}@${manifest.digest}`, 'a manifest without a config descriptor');
    }
    const what = `config of ${name}@${digest}`;
    const document = parseJson(await readBlob(name, configDigest, signal), what);
    if (!isObject(document)) throw malformed(what, 'JSON that is not an image config');
    const config = imageConfigOf(document);
    if (sha256Pattern.test(digest)) configCache.set(key, config);
    return structuredClone(config);
  };

  const parseWebhook = async (
    request: WebhookRequest,
    callOptions: CallOptions = {},
  ): Promise<RegistryObservation[]> => {
    guard(callOptions.signal, 'parseWebhook');
    const webhook = options.webhook;
    if (!webhook)
      throw new CoreError('UNSUPPORTED', `${id} has no webhook option`, {
        details: registryDetails(identity),
      });
    verifyNotificationHeader(request, webhook, identity);
    // Distribution retries deliveries and may repeat events: the engine drops repeats by eventId once
    // it recorded them; dropping them here too would lose one it could not record the first time.
    const observations = parseNotificationEnvelope(request.body, identity);
    logger.debug('parsed a registry notification', { observations: observations.length });
    return observations;
  };

  const probe: OciRegistry['probe'] = async (callOptions = {}) => {
    guard(callOptions.signal, 'probe');
    const what = 'the API probe (/v2/)';
    const response = await send({
      method: 'GET',
      url: endpoint('v2/'),
      scope: undefined,
      signal: callOptions.signal,
      what,
    });
    if (response.status === 404) {
      throw new CoreError('UNSUPPORTED', `${where} does not serve the OCI distribution API at /v2/`, {
        details: registryDetails(identity, { status: 404 }),
      });
    }
    if (response.status !== 200) throw statusError(identity, response, what);
    const apiVersion = response.headers.get('docker-distribution-api-version');
    return { auth: auth.scheme, ...(apiVersion ? { apiVersion } : {}) };
  };

  const registry: OciRegistry = {
    id,
    capabilities: { imageConfig: true, webhooks: options.webhook !== undefined, platforms: true },
    get rateLimit() {
      return rateLimit;
    },
    stats: () => ({ ...counters }),
    listTags,
    resolveReference,
    readImageConfig,
    probe,
    dispose: lifecycle.dispose,
  };
  if (options.webhook) registry.parseWebhook = parseWebhook;
  return registry;
}

/** The definition the server composes: name `oci`, options schema, secret option names. */
export const ociRegistry = defineRegistry({
  name: 'oci',
  options: ociRegistryOptions,
  secrets: ['password', 'secret'],
  create: buildOciRegistry,
});

/** An adapter for any OCI Distribution registry; options are validated here (`CONFIG_INVALID`). */
export function createOciRegistry(options: OciRegistryOptions, context: AdapterContext = {}): OciRegistry {
  return instantiate(ociRegistry, options, context);
}
