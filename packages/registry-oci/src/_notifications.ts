import { createHash, timingSafeEqual } from 'node:crypto';
import {
  CoreError,
  observationId,
  type RegistryObservation,
  type WebhookRequest,
} from '@docker-watcher/core';
import { type RegistryIdentity, registryDetails } from './_http.ts';
import { isManifestType } from './_media-types.ts';

/** Larger bodies are refused before parsing: distribution batches events, but never this many. */
export const maxNotificationBytes = 1024 * 1024;

/** Media types distribution sends its envelopes with (v1 up to 2.8, v2 since 3.0); others are read too. */
export const notificationMediaTypes = [
  'application/vnd.docker.distribution.events.v1+json',
  'application/vnd.docker.distribution.events.v2+json',
] as const;

export interface NotificationAuth {
  /** Lower-case header name, e.g. `authorization`. */
  readonly header: string;
  readonly secret: string;
}

const digestOf = (value: string) => createHash('sha256').update(value).digest();

/**
 * Distribution signs nothing: the endpoint's configured static header carries a shared secret.
 * Compared in constant time over fixed-length hashes, so neither content nor length leaks. A
 * `Bearer ` prefix is accepted, for `headers: { Authorization: [Bearer <secret>] }`.
 */
export function verifyNotificationHeader(
  request: WebhookRequest,
  auth: NotificationAuth,
  identity: RegistryIdentity,
): void {
  const received = request.headers[auth.header];
  if (received === undefined || received === '') {
    throw new CoreError('UNAUTHORIZED', `Notification for ${identity.id} has no ${auth.header} header`, {
      details: registryDetails(identity, { header: auth.header }),
    });
  }
  const value = /^bearer\s+/i.test(received) ? received.replace(/^bearer\s+/i, '') : received;
  const expected = digestOf(auth.secret);
  const bare = timingSafeEqual(digestOf(value), expected);
  const whole = timingSafeEqual(digestOf(received), expected);
  if (!bare && !whole) {
    throw new CoreError(
      'UNAUTHORIZED',
      `Notification for ${identity.id} carries a wrong ${auth.header} header`,
      {
        details: registryDetails(identity, { header: auth.header }),
      },
    );
  }
}

interface NotificationEvent {
  readonly id?: unknown;
  readonly timestamp?: unknown;
  readonly action?: unknown;
  readonly target?: {
    readonly mediaType?: unknown;
    readonly digest?: unknown;
    readonly repository?: unknown;
    readonly tag?: unknown;
  };
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/**
 * Reads a distribution notification envelope (`{ "events": [...] }`) and keeps what means "a tag now
 * points at a manifest": `push` events of manifests or indexes that carry `target.tag`. Layer pushes,
 * pulls, mounts, deletes and pushes by digest give nothing. Events are read loosely (unknown
 * fields are fine, an odd event is skipped): a strict receiver stalls the registry's queue.
 */
export function parseNotificationEnvelope(
  body: Uint8Array,
  identity: RegistryIdentity,
): RegistryObservation[] {
  if (body.byteLength > maxNotificationBytes) {
    throw new CoreError(
      'BAD_REQUEST',
      `Notification for ${identity.id} is larger than ${maxNotificationBytes} bytes`,
      {
        details: registryDetails(identity, { bytes: body.byteLength, limit: maxNotificationBytes }),
      },
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch (cause) {
    throw new CoreError('BAD_REQUEST', `Notification for ${identity.id} is not JSON`, {
      details: registryDetails(identity),
      cause,
    });
  }
  const events = (parsed as { events?: unknown } | null)?.events;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(events)) {
    throw new CoreError(
      'BAD_REQUEST',
      `Notification for ${identity.id} is not an envelope with an "events" array`,
      {
        details: registryDetails(identity),
      },
    );
  }
  const observations: RegistryObservation[] = [];
  for (const event of events as NotificationEvent[]) {
    if (typeof event !== 'object' || event === null || event.action !== 'push') continue;
    const target = typeof event.target === 'object' && event.target !== null ? event.target : {};
    const repository = text(target.repository);
    const tag = text(target.tag);
    const mediaType = text(target.mediaType);
    if (!repository || !tag || !isManifestType(mediaType?.toLowerCase())) continue;
    const digest = text(target.digest);
    const timestamp = text(event.timestamp);
    const occurredAt =
      timestamp !== undefined && !Number.isNaN(Date.parse(timestamp)) ? timestamp : undefined;
    observations.push({
      repository,
      tag,
      action: 'pushed',
      ...(digest && /^sha256:[a-f0-9]{64}$/.test(digest) ? { digest } : {}),
      // The event id is as easy to change as any other field of an unsigned body: the identity is
      // what the event says happened, so a captured one sent again with a new id is still a repeat.
      eventId: observationId('oci', repository, tag, digest, timestamp),
      ...(occurredAt ? { occurredAt } : {}),
    });
  }
  return observations;
}
