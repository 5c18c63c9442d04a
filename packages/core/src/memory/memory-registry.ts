import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as v from 'valibot';
import { type AdapterContext, adapterId, instantiate, onceDisposer } from '../contracts/adapter.ts';
import {
  defineRegistry,
  type ImageConfig,
  type Platform,
  platformName,
  type Registry,
  type RegistryObservation,
  type ResolvedReference,
  type WebhookRequest,
} from '../contracts/registry.ts';
import { CoreError } from '../errors.ts';
import { FaultInjector, type Faults } from './faults.ts';

export const memoryRegistryOptions = v.strictObject({
  webhookSecret: v.optional(
    v.pipe(
      v.string(),
      v.minLength(1),
      v.description(
        'HMAC-SHA256 secret of incoming webhooks (header `x-memory-signature: sha256=<hex>`). Without it, webhooks are not supported.',
      ),
    ),
  ),
  imageConfig: v.optional(v.pipe(v.boolean(), v.description('Whether `readImageConfig` is offered.')), true),
});

export type MemoryRegistryOptions = v.InferInput<typeof memoryRegistryOptions>;

export type MemoryRegistryOperation = 'listTags' | 'resolveReference' | 'readImageConfig' | 'parseWebhook';

/** What `push` stores; everything is optional and filled with plausible values. */
export interface MemoryImage {
  /** `sha256:<64 hex>`; random when absent. */
  readonly digest?: string;
  readonly config?: Partial<ImageConfig>;
  /** Makes the image a multi-platform index with one manifest per platform. */
  readonly platforms?: readonly Platform[];
}

export interface MemoryRegistry extends Registry {
  readonly faults: Faults<MemoryRegistryOperation>;
  /** Backend requests so far (`listTags`, `resolveReference`, `readImageConfig`; webhooks are not requests). */
  readonly requests: number;
  /** Points `tag` at a new image (or at `digest`) and returns the digest. Creates the repository. */
  push(repository: string, tag: string, image?: string | MemoryImage): string;
  /** Deletes one tag, or the whole repository when `tag` is absent. */
  remove(repository: string, tag?: string): void;
  /** Creates an empty repository (`listTags` answers `[]` instead of `NOT_FOUND`). */
  createRepository(repository: string): void;
  /** A webhook request announcing `observations`, signed with this registry's `webhookSecret`. */
  webhookRequest(observations: readonly RegistryObservation[]): WebhookRequest;
}

export const memoryWebhookSignatureHeader = 'x-memory-signature';

/** `sha256=<hex HMAC-SHA256 of body>`, the value of `x-memory-signature`. */
export function signMemoryWebhook(body: Uint8Array, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * The webhook the memory registry understands: `{ "events": [{ "id"?, "action", "repository", "tag",
 * "digest"?, "timestamp"? }] }` signed with `secret`. `action` is `pushed` or `deleted`; other actions are ignored.
 */
export function createMemoryWebhookRequest(params: {
  readonly observations: readonly RegistryObservation[];
  readonly secret: string;
}): WebhookRequest {
  const events = params.observations.map((observation) => ({
    ...(observation.eventId === undefined ? {} : { id: observation.eventId }),
    action: observation.action,
    repository: observation.repository,
    tag: observation.tag,
    ...(observation.digest === undefined ? {} : { digest: observation.digest }),
    ...(observation.occurredAt === undefined ? {} : { timestamp: observation.occurredAt }),
  }));
  const body = new TextEncoder().encode(JSON.stringify({ events }));
  return {
    headers: {
      'content-type': 'application/json',
      [memoryWebhookSignatureHeader]: signMemoryWebhook(body, params.secret),
    },
    body,
  };
}

const webhookBody = v.object({
  events: v.array(
    v.object({
      id: v.optional(v.string()),
      action: v.string(),
      repository: v.pipe(v.string(), v.minLength(1)),
      tag: v.pipe(v.string(), v.minLength(1)),
      digest: v.optional(v.string()),
      timestamp: v.optional(v.string()),
    }),
  ),
});

interface StoredImage {
  readonly digest: string;
  readonly mediaType: string;
  readonly config: ImageConfig;
  readonly platforms?: ReadonlyArray<Platform & { readonly digest: string }>;
}

interface Repository {
  readonly tags: Map<string, string>;
  readonly images: Map<string, StoredImage>;
}

/** The contract's rule for an index: the named platform, or the only one; never a guess. */
function checkPlatform(image: string, platforms: readonly Platform[], wanted: Platform | undefined): void {
  const available = platforms.map(platformName).join(', ');
  if (wanted === undefined) {
    if (platforms.length === 1) return;
    throw new CoreError(
      'BAD_REQUEST',
      `Image index ${image} has several platforms (${available}): name one`,
      {
        details: { image, available },
      },
    );
  }
  const found = platforms.some(
    (entry) =>
      entry.os === wanted.os &&
      entry.architecture === wanted.architecture &&
      (wanted.variant === undefined || entry.variant === wanted.variant),
  );
  if (!found) {
    throw new CoreError(
      'NOT_FOUND',
      `Image index ${image} has no ${platformName(wanted)} image (it has: ${available})`,
      {
        details: { image, platform: platformName(wanted), available },
      },
    );
  }
}

const manifestType = 'application/vnd.oci.image.manifest.v1+json';
const indexType = 'application/vnd.oci.image.index.v1+json';

function randomDigest(): string {
  return `sha256:${createHash('sha256').update(randomBytes(32)).digest('hex')}`;
}

function buildMemoryRegistry(
  options: v.InferOutput<typeof memoryRegistryOptions>,
  context: AdapterContext,
): MemoryRegistry {
  const id = adapterId('registry', 'memory', context.instance);
  const lifecycle = onceDisposer(async () => {});
  const faults = new FaultInjector<MemoryRegistryOperation>(id, lifecycle.disposed);
  const repositories = new Map<string, Repository>();
  const secret = options.webhookSecret;

  const repositoryOf = (repository: string): Repository => {
    const found = repositories.get(repository);
    if (!found) {
      throw new CoreError('NOT_FOUND', `Repository ${repository} does not exist`, {
        details: { registry: id, repository },
      });
    }
    return found;
  };

  const ensureRepository = (repository: string): Repository => {
    let found = repositories.get(repository);
    if (!found) {
      found = { tags: new Map(), images: new Map() };
      repositories.set(repository, found);
    }
    return found;
  };

  const resolved = (image: StoredImage): ResolvedReference => ({
    digest: image.digest,
    mediaType: image.mediaType,
    ...(image.platforms ? { platforms: image.platforms.map((platform) => ({ ...platform })) } : {}),
  });

  const findImage = (repository: Repository, digest: string): StoredImage | undefined => {
    const direct = repository.images.get(digest);
    if (direct) return direct;
    for (const image of repository.images.values()) {
      const platform = image.platforms?.find((entry) => entry.digest === digest);
      if (platform) return { digest, mediaType: manifestType, config: image.config };
    }
    return undefined;
  };

  const registry: MemoryRegistry = {
    id,
    capabilities: { imageConfig: options.imageConfig, webhooks: secret !== undefined, platforms: true },
    faults,
    get requests() {
      return faults.calls() - faults.calls('parseWebhook');
    },

    listTags: ({ repository, signal }) =>
      faults.run('listTags', signal, () => [...repositoryOf(repository).tags.keys()].sort()),

    resolveReference: ({ repository, reference, signal }) =>
      faults.run('resolveReference', signal, () => {
        const found = repositories.get(repository);
        if (!found) return undefined;
        const digest = reference.startsWith('sha256:') ? reference : found.tags.get(reference);
        const image = digest === undefined ? undefined : findImage(found, digest);
        return image ? resolved(image) : undefined;
      }),

    push(repository, tag, image = {}) {
      const spec: MemoryImage = typeof image === 'string' ? { digest: image } : image;
      const digest = spec.digest ?? randomDigest();
      const target = ensureRepository(repository);
      const existing = target.images.get(digest);
      if (!existing || spec.config || spec.platforms) {
        target.images.set(digest, {
          digest,
          mediaType: spec.platforms ? indexType : manifestType,
          config: {
            labels: { ...spec.config?.labels },
            exposedPorts: [...(spec.config?.exposedPorts ?? [])],
            ...(spec.config?.healthcheck ? { healthcheck: spec.config.healthcheck } : {}),
          },
          ...(spec.platforms
            ? { platforms: spec.platforms.map((platform) => ({ ...platform, digest: randomDigest() })) }
            : {}),
        });
      }
      target.tags.set(tag, digest);
      return digest;
    },

    remove(repository, tag) {
      if (tag === undefined) repositories.delete(repository);
      else repositories.get(repository)?.tags.delete(tag);
    },

    createRepository(repository) {
      ensureRepository(repository);
    },

    webhookRequest(observations) {
      if (secret === undefined) {
        throw new CoreError('UNSUPPORTED', `${id} has no webhookSecret`, { details: { registry: id } });
      }
      return createMemoryWebhookRequest({ observations, secret });
    },

    dispose: lifecycle.dispose,
  };

  if (options.imageConfig) {
    registry.readImageConfig = ({ repository, digest, platform, signal }) =>
      faults.run('readImageConfig', signal, () => {
        const image = findImage(repositoryOf(repository), digest);
        if (!image) {
          throw new CoreError('NOT_FOUND', `Image ${repository}@${digest} does not exist`, {
            details: { registry: id, repository, digest },
          });
        }
        if (image.platforms) checkPlatform(`${repository}@${digest}`, image.platforms, platform);
        return structuredClone(image.config);
      });
  }

  if (secret !== undefined) {
    registry.parseWebhook = (request, callOptions = {}) =>
      faults.run('parseWebhook', callOptions.signal, () => parseMemoryWebhook(request, secret, id));
  }

  return registry;
}

function parseMemoryWebhook(request: WebhookRequest, secret: string, id: string): RegistryObservation[] {
  const signature = request.headers[memoryWebhookSignatureHeader];
  if (!signature) {
    throw new CoreError('UNAUTHORIZED', `Webhook without ${memoryWebhookSignatureHeader} header`, {
      details: { registry: id },
    });
  }
  const expected = Buffer.from(signMemoryWebhook(request.body, secret));
  const received = Buffer.from(signature);
  if (expected.length !== received.length || !timingSafeEqual(expected, received)) {
    throw new CoreError('UNAUTHORIZED', 'Webhook signature does not match', { details: { registry: id } });
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(request.body));
  } catch (cause) {
    throw new CoreError('BAD_REQUEST', 'Webhook body is not JSON', { cause, details: { registry: id } });
  }
  const parsed = v.safeParse(webhookBody, json);
  if (!parsed.success) {
    const paths = parsed.issues.map((issue) => (issue.path ?? []).map((item) => String(item.key)).join('.'));
    throw new CoreError('BAD_REQUEST', 'Webhook body does not have the expected shape', {
      details: { registry: id, paths },
    });
  }
  return parsed.output.events.flatMap((event): RegistryObservation[] => {
    if (event.action !== 'pushed' && event.action !== 'deleted') return [];
    return [
      {
        repository: event.repository,
        tag: event.tag,
        action: event.action,
        ...(event.digest === undefined ? {} : { digest: event.digest }),
        ...(event.id === undefined ? {} : { eventId: event.id }),
        ...(event.timestamp === undefined ? {} : { occurredAt: event.timestamp }),
      },
    ];
  });
}

export const memoryRegistry = defineRegistry({
  name: 'memory',
  options: memoryRegistryOptions,
  secrets: ['webhookSecret'],
  create: buildMemoryRegistry,
});

/** An in-memory registry for SDK scripts and tests, with test controls (`push`, `remove`, `faults`). */
export function createMemoryRegistry(
  options: MemoryRegistryOptions = {},
  context: AdapterContext = {},
): MemoryRegistry {
  return instantiate(memoryRegistry, options, context);
}
