import { createHash } from 'node:crypto';
import type * as v from 'valibot';
import type { Adapter, AdapterDefinition, CallOptions } from './adapter.ts';

export interface RegistryCapabilities {
  /** `readImageConfig` is implemented. */
  readonly imageConfig: boolean;
  /** `parseWebhook` is implemented. */
  readonly webhooks: boolean;
  /** `resolveDigest` reports the platforms of a multi-platform index. */
  readonly platforms: boolean;
}

export interface Platform {
  readonly os: string;
  readonly architecture: string;
  readonly variant?: string;
}

/** `linux/arm64/v8`: how a platform is named in messages and on the Docker command line. */
export const platformName = (platform: Platform): string =>
  `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`;

export interface ResolvedReference {
  /** Digest of what the reference points at (the index for a multi-platform image). */
  readonly digest: string;
  readonly mediaType?: string;
  /** For an index: one entry per platform manifest. */
  readonly platforms?: ReadonlyArray<Platform & { readonly digest: string }>;
}

export interface ImageConfig {
  readonly labels: Readonly<Record<string, string>>;
  /** Container ports as numbers, e.g. `8080` from `8080/tcp`. */
  readonly exposedPorts: readonly number[];
  readonly healthcheck?: {
    readonly test: readonly string[];
    readonly intervalMs?: number;
    readonly timeoutMs?: number;
    readonly retries?: number;
    readonly startPeriodMs?: number;
  };
}

/** An incoming HTTP request, as the server received it. Header names are lower-case. */
export interface WebhookRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The raw body, exactly as received: signatures are computed over these bytes. */
  readonly body: Uint8Array;
}

/** One thing a registry saw: a tag pushed (with its digest when known) or deleted. */
export interface RegistryObservation {
  readonly repository: string;
  readonly tag: string;
  readonly digest?: string;
  readonly action: 'pushed' | 'deleted';
  /**
   * The event's identity, from what its body says (and a signature covers, where the registry signs):
   * the same event delivered again, under any delivery id, has the same one. For replay protection.
   */
  readonly eventId?: string;
  /** When the registry says the push happened (ISO 8601), from the body: too old a notification is dropped. */
  readonly occurredAt?: string;
}

/**
 * An event's identity from the fields of its body that name it (repository, tag, digest, the
 * registry's own id and time), as `eventId`: a delivery id from a header is not signed, so a
 * captured delivery sent again with a new one must still count as seen.
 */
export function observationId(...parts: ReadonlyArray<string | number | undefined>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

export interface RepositoryParams extends CallOptions {
  /** Repository path as the registry names it, e.g. `team/web-app` (no host, no tag). */
  readonly repository: string;
}

export interface Registry extends Adapter {
  readonly capabilities: RegistryCapabilities;
  /**
   * Every tag of a repository, across all pages, as names only: never a request per tag.
   * Unknown repository: `NOT_FOUND`.
   */
  listTags(params: RepositoryParams): Promise<string[]>;
  /** The digest a tag (or digest) points at now; `undefined` when the tag does not exist. */
  resolveReference(
    params: RepositoryParams & { readonly reference: string },
  ): Promise<ResolvedReference | undefined>;
  /**
   * Labels, exposed ports and healthcheck of an image, for target defaults. `digest` may name a
   * multi-platform index: then the config of `platform`'s image (`NOT_FOUND` naming the platforms
   * there are when the index lacks it); without `platform` (and no default set on the adapter) the
   * only platform of a one-platform index, else `BAD_REQUEST` naming the platforms to choose from,
   * never a guess.
   */
  readImageConfig?(
    params: RepositoryParams & { readonly digest: string; readonly platform?: Platform },
  ): Promise<ImageConfig>;
  /**
   * Verifies an incoming webhook and turns it into observations. A forged, unsigned or malformed
   * request is `UNAUTHORIZED` or `BAD_REQUEST`; an event the registry sends but we ignore gives `[]`.
   */
  parseWebhook?(request: WebhookRequest, options?: CallOptions): Promise<RegistryObservation[]>;
}

export type RegistryDefinition<
  S extends v.GenericSchema = v.GenericSchema,
  A extends Registry = Registry,
> = AdapterDefinition<'registry', S, A>;

export function defineRegistry<S extends v.GenericSchema, A extends Registry>(
  definition: Omit<RegistryDefinition<S, A>, 'kind'>,
): RegistryDefinition<S, A> {
  return { kind: 'registry', ...definition };
}
