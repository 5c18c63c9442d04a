import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  CoreError,
  observationId,
  type RegistryObservation,
  type WebhookRequest,
} from '@docker-watcher/core';
import { type ApiIdentity, apiDetails } from '@docker-watcher/registry-oci';

/** Larger deliveries are refused before anything else: a package event is a few kilobytes. */
export const maxWebhookBytes = 1024 * 1024;

const hexSha256 = /^[0-9a-f]{64}$/i;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const first = (request: WebhookRequest, names: readonly string[]): string | undefined => {
  for (const name of names) {
    const value = request.headers[name]?.trim();
    if (value) return value;
  }
  return undefined;
};

/** The event name: Gitea's header, Forgejo's, or the GitHub-compatible copy. */
export const eventOf = (request: WebhookRequest): string | undefined =>
  first(request, ['x-gitea-event', 'x-forgejo-event', 'x-github-event'])?.toLowerCase();

/**
 * The signature Gitea sent, as hex: `X-Gitea-Signature` (bare hex), Forgejo's copy, or the
 * GitHub-compatible `X-Hub-Signature-256: sha256=<hex>`. Empty values (a hook without secret) count as none.
 */
function signatureOf(request: WebhookRequest): string | undefined {
  const bare = first(request, ['x-gitea-signature', 'x-forgejo-signature']);
  if (bare) return bare;
  const hub = first(request, ['x-hub-signature-256']);
  const hex = hub?.replace(/^sha256=/i, '');
  return hex === '' ? undefined : hex;
}

/**
 * The JSON Gitea signed: the body itself, or the `payload` field of a form-encoded delivery (the
 * signature covers the JSON string, not the form).
 */
function signedPayload(request: WebhookRequest): Uint8Array {
  const contentType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/x-www-form-urlencoded') return request.body;
  const payload = new URLSearchParams(Buffer.from(request.body).toString('utf8')).get('payload');
  return payload === null ? request.body : Buffer.from(payload, 'utf8');
}

/**
 * Checks size and HMAC-SHA256 signature (constant time over the raw bytes) and returns the signed
 * JSON bytes. Over 1 MiB is `BAD_REQUEST`; no signature or a wrong one is `UNAUTHORIZED`.
 */
export function verifyDelivery(request: WebhookRequest, secret: string, identity: ApiIdentity): Uint8Array {
  if (request.body.byteLength > maxWebhookBytes) {
    throw new CoreError(
      'BAD_REQUEST',
      `Webhook for ${identity.id} is ${request.body.byteLength} bytes, over the ${maxWebhookBytes}-byte limit`,
      { details: apiDetails(identity, { bytes: request.body.byteLength, limit: maxWebhookBytes }) },
    );
  }
  const signature = signatureOf(request);
  if (signature === undefined) {
    throw new CoreError(
      'UNAUTHORIZED',
      `Webhook for ${identity.id} is unsigned: no X-Gitea-Signature or X-Hub-Signature-256 header (set the hook's secret)`,
      { details: apiDetails(identity) },
    );
  }
  const payload = signedPayload(request);
  const expected = createHmac('sha256', secret).update(payload).digest();
  const valid = hexSha256.test(signature) && timingSafeEqual(Buffer.from(signature, 'hex'), expected);
  if (!valid) {
    throw new CoreError(
      'UNAUTHORIZED',
      `Webhook for ${identity.id} carries a signature that does not verify`,
      {
        details: apiDetails(identity),
      },
    );
  }
  return payload;
}

const malformed = (identity: ApiIdentity, problem: string, cause?: unknown) =>
  new CoreError('BAD_REQUEST', `Webhook for ${identity.id} ${problem}`, {
    details: apiDetails(identity),
    ...(cause === undefined ? {} : { cause }),
  });

/**
 * A `package` event -> at most one observation. Only container packages count; `created` is a
 * push, `deleted` a deletion; untagged `sha256:` versions (platform manifests, attestations) are
 * skipped. The repository is `owner/name`, lower-cased as Gitea stores it.
 */
export function parsePackageEvent(payload: Uint8Array, identity: ApiIdentity): RegistryObservation[] {
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (cause) {
    throw malformed(identity, 'has a body that is not JSON', cause);
  }
  if (!isObject(body) || typeof body.action !== 'string' || !isObject(body.package)) {
    throw malformed(identity, 'is not a package event ({ action, package })');
  }
  const pkg = body.package;
  if (typeof pkg.type !== 'string' || typeof pkg.name !== 'string' || typeof pkg.version !== 'string') {
    throw malformed(identity, 'has a package without type, name or version');
  }
  if (pkg.type !== 'container') return [];
  const action = body.action === 'created' ? 'pushed' : body.action === 'deleted' ? 'deleted' : undefined;
  if (action === undefined) return [];
  if (pkg.version.startsWith('sha256:') || pkg.version === '') return [];
  const owner = isObject(pkg.owner) ? (pkg.owner.login ?? pkg.owner.username) : undefined;
  if (typeof owner !== 'string' || owner === '' || pkg.name === '') {
    throw malformed(identity, 'has a package without owner or name');
  }
  const repository = `${owner}/${pkg.name}`.toLowerCase();
  const tag = pkg.version.toLowerCase();
  const versionId = typeof pkg.id === 'number' || typeof pkg.id === 'string' ? pkg.id : undefined;
  const createdAt = typeof pkg.created_at === 'string' ? pkg.created_at : undefined;
  // The delivery id header is not signed: the identity is what the signed body says.
  const eventId = observationId('gitea', body.action, repository, tag, versionId, createdAt);
  return [
    {
      repository,
      tag,
      action,
      eventId,
      ...(action === 'pushed' && createdAt !== undefined ? { occurredAt: createdAt } : {}),
    },
  ];
}
