import { createHash } from 'node:crypto';
import {
  type AdapterContext,
  adapterId,
  CoreError,
  compileNotificationTemplate,
  createRedactingLogger,
  type DescribeOptions,
  describeDigest,
  describeNotification,
  type Logger,
  type NotifiableEventName,
  type NotificationDigest,
  type NotificationEvent,
  type NotificationMessage,
  type Notifier,
  onceDisposer,
  silentLogger,
  throwIfAborted,
} from '@docker-watcher/core';
import { createHttpClient, type HttpClient } from './_http.ts';
import type { ChannelOptions } from './_options.ts';

/** One message on its way to a channel's service. */
export interface ChannelDelivery {
  readonly message: NotificationMessage;
  /** What is delivered, for error messages: `deliver deploy:failed`, `deliver a digest of 3 events`. */
  readonly what: string;
  /** The same for every retry of the same event or digest: for services that deduplicate (Matrix). */
  readonly key: string;
  /** The event or digest itself: a WeakMap key for state kept across its retries (chats already reached). */
  readonly subject: object;
  /** Fires when the caller aborts or the notifier is disposed. */
  readonly signal: AbortSignal;
}

export interface ChannelTools {
  readonly id: string;
  readonly http: HttpClient;
  /** Redacts the channel's secrets; silent unless the caller injected a logger. */
  readonly logger: Logger;
  readonly lifetime: AbortSignal;
}

export interface ChannelTransport {
  /** Sends one message; throws a `CoreError` (retryable when a retry may succeed). */
  send(delivery: ChannelDelivery): Promise<void>;
  /** Releases connections; called once, at dispose. */
  close?(): Promise<void>;
}

export interface ChannelSpec {
  /** The channel's name: the notifier's id is `notifier:<name>[/<instance>]`. */
  readonly name: string;
  readonly options: ChannelOptions;
  readonly context: AdapterContext;
  /** Secret values (tokens, passwords, webhook URLs): never in logs or errors. */
  readonly secrets: readonly (string | undefined)[];
  readonly transport: (tools: ChannelTools) => ChannelTransport;
}

function keyOf(subject: NotificationEvent | NotificationDigest): string {
  return createHash('sha256').update(JSON.stringify(subject)).digest('hex').slice(0, 32);
}

/**
 * The skeleton of every channel: the event filter, messages (templates, dashboard links), abort
 * and dispose handling and secret redaction live here; a channel brings its transport (how a
 * message becomes a request to its service, and what the answers mean).
 */
export function createChannelNotifier(
  spec: ChannelSpec,
): Notifier & Required<Pick<Notifier, 'notifyDigest'>> {
  const id = adapterId('notifier', spec.name, spec.context.instance);
  // A template may hold a token (a mention code, a link with a key): its text is masked like a secret.
  const templateText = [spec.options.titleTemplate, spec.options.textTemplate].flatMap((template) =>
    template === undefined ? [] : template.split(/\{\{.*?\}\}/s).map((part) => part.trim()),
  );
  const secrets = [...spec.secrets, ...templateText].filter(
    (secret): secret is string => typeof secret === 'string' && secret.length >= 4,
  );
  const logger = createRedactingLogger(spec.context.logger ?? silentLogger, { secrets }).child({
    notifier: id,
  });
  const lifetime = new AbortController();
  const http = createHttpClient({
    id,
    timeoutMs: spec.options.timeoutMs,
    lifetime: lifetime.signal,
    secrets,
  });
  const transport = spec.transport({ id, http, logger, lifetime: lifetime.signal });
  const lifecycle = onceDisposer(async () => {
    lifetime.abort();
    await transport.close?.();
  });
  const { options } = spec;
  const wanted: readonly NotifiableEventName[] | undefined = options.events
    ? [...new Set(options.events)]
    : undefined;
  const describe: DescribeOptions = {
    ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}),
    templates: {
      ...(options.titleTemplate
        ? { title: compileNotificationTemplate(options.titleTemplate, 'titleTemplate') }
        : {}),
      ...(options.textTemplate
        ? { text: compileNotificationTemplate(options.textTemplate, 'textTemplate') }
        : {}),
    },
  };

  const send = async (
    subject: NotificationEvent | NotificationDigest,
    message: NotificationMessage,
    what: string,
    signal: AbortSignal | undefined,
  ): Promise<void> => {
    throwIfAborted(signal);
    if (lifecycle.disposed()) throw new CoreError('UNAVAILABLE', `${id} is disposed`, { retryable: false });
    const combined = AbortSignal.any([lifetime.signal, ...(signal ? [signal] : [])]);
    const started = performance.now();
    await transport.send({ message, what, key: keyOf(subject), subject, signal: combined });
    logger.debug(`${what.replace(/^deliver/, 'delivered')}`, { ms: Math.round(performance.now() - started) });
  };

  return {
    id,
    ...(wanted ? { events: wanted } : {}),
    notify: async ({ event, signal }) => {
      if (wanted && !wanted.includes(event.type)) return throwIfAborted(signal);
      await send(event, describeNotification(event, describe), `deliver ${event.type}`, signal);
    },
    notifyDigest: async ({ digest, signal }) => {
      const events = wanted ? digest.events.filter((event) => wanted.includes(event.type)) : digest.events;
      if (events.length === 0 && digest.dropped === undefined) return throwIfAborted(signal);
      const kept: NotificationDigest = { ...digest, events };
      const what =
        events.length === 0
          ? 'deliver a report of dropped notifications'
          : `deliver a digest of ${events.length} events`;
      // The digest as given is the subject: a retry brings the same object, so per-delivery state survives.
      await send(digest, describeDigest(kept, describe), what, signal);
    },
    dispose: lifecycle.dispose,
  };
}
