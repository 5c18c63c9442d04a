import {
  type AdapterContext,
  adapterId,
  CoreError,
  codeFromHttpStatus,
  defineRegistry,
  instantiate,
  isDigest,
  onceDisposer,
  parseRetryAfter,
  type Registry,
  silentLogger,
  throwIfAborted,
} from '@docker-watcher/core';
import * as v from 'valibot';
import { type StaticIndexRegistryOptions, staticIndexRegistryOptions } from './options.ts';

const indexSchema = v.object({
  repositories: v.record(
    v.string(),
    v.object({
      tags: v.record(v.string(), v.pipe(v.string(), v.check(isDigest, 'expected sha256:<64 hex>'))),
    }),
  ),
});

type StaticIndex = v.InferOutput<typeof indexSchema>;
type Tags = StaticIndex['repositories'][string]['tags'];

function createRegistry(
  options: v.InferOutput<typeof staticIndexRegistryOptions>,
  context: AdapterContext,
): Registry {
  const id = adapterId('registry', 'static-index', context.instance);
  const logger = (context.logger ?? silentLogger).child({ adapter: id });
  // The host only: a URL may carry credentials, and messages never do.
  const details = { registry: id, host: new URL(options.url).host };
  const lifecycle = onceDisposer(async () => {});

  const fetchIndex = async (signal: AbortSignal | undefined): Promise<StaticIndex> => {
    throwIfAborted(signal);
    if (lifecycle.disposed())
      throw new CoreError('UNAVAILABLE', `${id} is disposed`, { retryable: false, details });
    const timeout = AbortSignal.timeout(options.timeoutMs);
    const started = Date.now();
    let response: Response;
    let json: unknown;
    try {
      response = await fetch(options.url, {
        headers: {
          accept: 'application/json',
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      logger.debug('GET index', { status: response.status, durationMs: Date.now() - started });
      if (!response.ok) {
        await response.body?.cancel();
        throw new CoreError(codeFromHttpStatus(response.status), `GET index answered ${response.status}`, {
          details: { ...details, status: response.status },
          retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
        });
      }
      json = await response.json();
    } catch (error) {
      throw failure(error, signal, timeout);
    }
    const parsed = v.safeParse(indexSchema, json);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      const path = (issue.path ?? []).map((item) => String(item.key)).join('.');
      throw new CoreError(
        'BAD_RESPONSE',
        `The index does not have the expected shape (${path || 'root'}: ${issue.message})`,
        {
          details,
        },
      );
    }
    return parsed.output;
  };

  // Maps whatever fetch or the body threw: our own CoreErrors pass, aborts and timeouts get their
  // codes, a body that is not JSON is BAD_RESPONSE, and anything else is the network failing.
  const failure = (error: unknown, signal: AbortSignal | undefined, timeout: AbortSignal): CoreError => {
    if (error instanceof CoreError) return error;
    if (signal?.aborted)
      return new CoreError('ABORTED', 'The operation was aborted', { cause: signal.reason, details });
    if (timeout.aborted)
      return new CoreError('TIMEOUT', `GET index took longer than ${options.timeoutMs} ms`, { details });
    if (error instanceof SyntaxError)
      return new CoreError('BAD_RESPONSE', 'The index is not JSON', { cause: error, details });
    return new CoreError('UNAVAILABLE', 'The index cannot be reached', { cause: error, details });
  };

  const tagsOf = (index: StaticIndex, repository: string): Tags | undefined =>
    Object.hasOwn(index.repositories, repository) ? index.repositories[repository]?.tags : undefined;

  return {
    id,
    capabilities: { imageConfig: false, webhooks: false, platforms: false },

    // The index is one document: every tag comes with one request, there are no pages.
    listTags: async ({ repository, signal }) => {
      const tags = tagsOf(await fetchIndex(signal), repository);
      if (!tags)
        throw new CoreError('NOT_FOUND', `Repository ${repository} is not in the index`, {
          details: { ...details, repository },
        });
      return Object.keys(tags);
    },

    resolveReference: async ({ repository, reference, signal }) => {
      const tags = tagsOf(await fetchIndex(signal), repository);
      if (!tags) return undefined;
      if (isDigest(reference))
        return Object.values(tags).includes(reference) ? { digest: reference } : undefined;
      const digest = Object.hasOwn(tags, reference) ? tags[reference] : undefined;
      return digest === undefined ? undefined : { digest };
    },

    dispose: lifecycle.dispose,
  };
}

/** The definition: the server's config door (`type: static-index`). */
export const staticIndexRegistry = defineRegistry({
  name: 'static-index',
  options: staticIndexRegistryOptions,
  secrets: ['token'],
  create: createRegistry,
});

/** The SDK door: validates `options` once and returns the adapter. */
export function createStaticIndexRegistry(
  options: StaticIndexRegistryOptions,
  context: AdapterContext = {},
): Registry {
  return instantiate(staticIndexRegistry, options, context);
}
