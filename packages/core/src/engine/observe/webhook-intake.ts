import type { Registry, RegistryObservation, WebhookRequest } from '../../contracts/registry.ts';
import type { StateStore } from '../../contracts/state-store.ts';
import { CoreError } from '../../errors.ts';
import type { EventBus } from '../../events.ts';
import type { Logger } from '../../logger.ts';
import { type ObservationInbox, repoKey } from './observation-inbox.ts';
import type { Watched } from './registries.ts';

export interface WebhookIntakeOptions {
  /** The engine's registries by name; a webhook names the one it comes from. */
  readonly registries: Readonly<Record<string, Registry>>;
  readonly watched: ReadonlyMap<string, Watched>;
  readonly inbox: ObservationInbox;
  /** Where event ids are remembered (`rememberEvent`): replicas share what they saw. */
  readonly store: StateStore;
  readonly bus: EventBus;
  readonly logger: Logger;
  /** How long event ids are remembered, and how old a notification may be. */
  readonly eventTtlMs: number;
  /** Asks for a look at a repository a webhook touched. */
  readonly observe: (entry: Watched) => void;
}

/**
 * Webhooks in: verified and parsed by the registry's adapter, marked in the store before they are
 * acknowledged, looked at (coalesced) by the repository looks. Replay protection lives here only:
 * adapters derive an `eventId` from what their registry signs and keep no memory of their own; an
 * id the store remembers, or a notification older than the ids are remembered, is dropped.
 */
export class WebhookIntake {
  readonly #options: WebhookIntakeOptions;

  constructor(options: WebhookIntakeOptions) {
    this.#options = options;
  }

  /** The observations not seen before (each one announced as `registry:observed`). */
  async ingest(params: { readonly registry: string; readonly request: WebhookRequest }) {
    const { registries, watched, inbox, observe } = this.#options;
    const name = params.registry;
    const registry = Object.hasOwn(registries, name) ? registries[name] : undefined;
    if (!registry) throw new CoreError('NOT_FOUND', `No registry named ${name}`);
    if (!registry.parseWebhook) throw new CoreError('UNSUPPORTED', `${registry.id} does not take webhooks`);
    const observations = (await registry.parseWebhook(params.request)).filter((observation) =>
      this.#recent(registry, observation),
    );
    // Marked in the store before anything else: a store that cannot write fails the webhook, so
    // that the registry sends it again, and a marked repository is looked at until acted on.
    const touched = new Map<string, { entry: Watched; tags: string[] }>();
    for (const observation of observations) {
      const key = repoKey(name, observation.repository);
      const entry = watched.get(key);
      if (!entry) continue;
      const seen = touched.get(key) ?? { entry, tags: [] };
      if (observation.action === 'pushed') seen.tags.push(observation.tag);
      touched.set(key, seen);
    }
    for (const { entry, tags } of touched.values())
      await inbox.accept(entry.registry, entry.repository, tags);
    const fresh: RegistryObservation[] = [];
    for (const observation of observations) {
      if (!(await this.#firstDelivery(registry, observation))) continue;
      fresh.push(observation);
      this.#announce(registry, observation);
    }
    // Replays too: their mark is cleared by a look, which costs one listing per burst.
    for (const { entry } of touched.values()) observe(entry);
    return fresh;
  }

  /** An older notification than the replay window is dropped: its id may be forgotten already. */
  #recent(registry: Registry, observation: RegistryObservation): boolean {
    const age = observation.occurredAt ? Date.now() - Date.parse(observation.occurredAt) : 0;
    if (!(age > this.#options.eventTtlMs)) return true;
    this.#options.logger.warn('dropped a notification older than the replay window', {
      registry: registry.id,
      repository: observation.repository,
      tag: observation.tag,
      occurredAt: observation.occurredAt,
    });
    return false;
  }

  /** Whether the store had not seen this event id (one without an id always counts as new). */
  async #firstDelivery(registry: Registry, observation: RegistryObservation): Promise<boolean> {
    if (!observation.eventId) return true;
    return this.#options.store.rememberEvent({
      source: registry.id,
      eventId: observation.eventId,
      ttlMs: this.#options.eventTtlMs,
    });
  }

  #announce(registry: Registry, observation: RegistryObservation): void {
    this.#options.bus.emit({
      type: 'registry:observed',
      at: new Date().toISOString(),
      registryId: registry.id,
      repository: observation.repository,
      tag: observation.tag,
      ...(observation.digest ? { digest: observation.digest } : {}),
      source: 'webhook',
      ...(observation.eventId ? { eventId: observation.eventId } : {}),
    });
  }
}
