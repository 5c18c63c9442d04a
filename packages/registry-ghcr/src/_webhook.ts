import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  CoreError,
  observationId,
  type RegistryObservation,
  type WebhookRequest,
} from '@docker-watcher/core';
import { type ApiIdentity, apiDetails } from '@docker-watcher/registry-oci';

/** Larger deliveries are refused before anything else: a package event is tens of kilobytes. */
export const maxWebhookBytes = 1024 * 1024;

const signaturePattern = /^sha256=([0-9a-f]{64})$/i;
const sha256Pattern = /^sha256:[a-f0-9]{64}$/;
const containerTypes = new Set(['container', 'docker']);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const header = (request: WebhookRequest, name: string): string | undefined => {
  const value = request.headers[name]?.trim();
  return value ? value : undefined;
};

export const eventOf = (request: WebhookRequest) => header(request, 'x-github-event')?.toLowerCase();

/**
 * Size first (over 1 MiB is `BAD_REQUEST`), then `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of
 * the raw body>` compared in constant time: missing, empty (`sha256=`) or wrong is `UNAUTHORIZED`.
 */
export function verifyDelivery(request: WebhookRequest, secret: string, identity: ApiIdentity): void {
  if (request.body.byteLength > maxWebhookBytes) {
    throw new CoreError(
      'BAD_REQUEST',
      `Webhook for ${identity.id} is ${request.body.byteLength} bytes, over the ${maxWebhookBytes}-byte limit`,
      { details: apiDetails(identity, { bytes: request.body.byteLength, limit: maxWebhookBytes }) },
    );
  }
  const signature = header(request, 'x-hub-signature-256');
  if (signature === undefined || /^sha256=$/i.test(signature)) {
    throw new CoreError(
      'UNAUTHORIZED',
      `Webhook for ${identity.id} is unsigned: no X-Hub-Signature-256 header (set the webhook's secret)`,
      { details: apiDetails(identity) },
    );
  }
  const expected = createHmac('sha256', secret).update(request.body).digest();
  const hex = signaturePattern.exec(signature)?.[1];
  if (hex === undefined || !timingSafeEqual(Buffer.from(hex, 'hex'), expected)) {
    throw new CoreError(
      'UNAUTHORIZED',
      `Webhook for ${identity.id} carries an X-Hub-Signature-256 that does not verify`,
      { details: apiDetails(identity) },
    );
  }
}

const malformed = (identity: ApiIdentity, problem: string, cause?: unknown) =>
  new CoreError('BAD_REQUEST', `Webhook for ${identity.id} ${problem}`, {
    details: apiDetails(identity),
    ...(cause === undefined ? {} : { cause }),
  });

/**
 * A `package` or `registry_package` event -> at most one observation: `published` and `updated`
 * of a container package with a non-empty tag (platform manifests of a multi-arch push arrive as
 * events with an empty tag). The repository is `owner/name`, lower-cased as ghcr.io names it.
 */
export function parsePackageEvent(
  body: Uint8Array,
  event: 'package' | 'registry_package',
  identity: ApiIdentity,
): RegistryObservation[] {
  let document: unknown;
  try {
    document = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (cause) {
    throw malformed(identity, 'has a body that is not JSON', cause);
  }
  const pkg = isObject(document)
    ? (document[event] ?? document.package ?? document.registry_package)
    : undefined;
  if (!isObject(document) || typeof document.action !== 'string' || !isObject(pkg)) {
    throw malformed(identity, `is not a ${event} event ({ action, ${event} })`);
  }
  if (document.action !== 'published' && document.action !== 'updated') return [];
  // REST says `container`, webhooks `CONTAINER`; older payloads say `docker`.
  const kinds = [pkg.package_type, pkg.ecosystem]
    .filter((kind): kind is string => typeof kind === 'string')
    .map((kind) => kind.toLowerCase());
  if (!kinds.some((kind) => containerTypes.has(kind))) return [];
  const owner = isObject(pkg.owner) ? pkg.owner.login : undefined;
  if (typeof owner !== 'string' || owner === '' || typeof pkg.name !== 'string' || pkg.name === '') {
    throw malformed(identity, 'has a package without owner or name');
  }
  const version = pkg.package_version;
  if (!isObject(version)) throw malformed(identity, 'has a package without package_version');
  const metadata = isObject(version.container_metadata) ? version.container_metadata : {};
  const tag = isObject(metadata.tag) ? metadata.tag : {};
  if (typeof tag.name !== 'string' || tag.name === '') return [];
  const digest = [tag.digest, version.version, version.name].find(
    (value): value is string => typeof value === 'string' && sha256Pattern.test(value),
  );
  const repository = `${owner}/${pkg.name}`.toLowerCase();
  const occurredAt = [version.updated_at, version.created_at, pkg.updated_at].find(
    (value): value is string => typeof value === 'string' && !Number.isNaN(Date.parse(value)),
  );
  return [
    {
      repository,
      tag: tag.name,
      action: 'pushed',
      ...(digest === undefined ? {} : { digest }),
      // What the signed body names: the platform events of one multi-arch push share it.
      eventId: observationId('ghcr', repository, tag.name, digest),
      ...(occurredAt === undefined ? {} : { occurredAt }),
    },
  ];
}
