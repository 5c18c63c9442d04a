import { type FeedEntry, isCoreError, type Registry } from '@docker-watcher/core';

export interface RegistryActivity {
  lastPoll: { at: string; ok: boolean; tags?: number } | null;
  lastWebhook: { at: string; repository: string; tag: string } | null;
  lastError: { at: string; operation: string; code: string; message: string } | null;
}

export interface ReplicaSeen {
  readonly holder: string;
  readonly leader: boolean;
  readonly lastSeenAt: string;
}

/**
 * What `GET /api/status` tells about registries and replicas: this replica's listings of each
 * registry (as they happen), and from the events of every replica the last webhook and error per
 * registry and each replica's last word on leadership.
 */
export class Activity {
  readonly #registries = new Map<string, RegistryActivity>();
  /** Adapter id (`registry:oci/main`) → registry name in the config. */
  readonly #names = new Map<string, string>();
  readonly #replicas = new Map<string, ReplicaSeen>();

  constructor(registries: Readonly<Record<string, Registry>>) {
    for (const [name, registry] of Object.entries(registries)) {
      this.#names.set(registry.id, name);
      this.#registries.set(name, { lastPoll: null, lastWebhook: null, lastError: null });
    }
  }

  /** The registry, recording each listing of its tags as this replica's last poll. */
  instrument(name: string, registry: Registry): Registry {
    const record = (ok: boolean, tags?: number) => {
      const activity = this.#registries.get(name);
      if (activity)
        activity.lastPoll = { at: new Date().toISOString(), ok, ...(tags === undefined ? {} : { tags }) };
    };
    const { readImageConfig, parseWebhook } = registry;
    return {
      id: registry.id,
      capabilities: registry.capabilities,
      listTags: async (params) => {
        try {
          const tags = await registry.listTags(params);
          record(true, tags.length);
          return tags;
        } catch (error) {
          if (!isCoreError(error, 'ABORTED')) record(false);
          throw error;
        }
      },
      resolveReference: (params) => registry.resolveReference(params),
      dispose: () => registry.dispose(),
      ...(readImageConfig ? { readImageConfig: readImageConfig.bind(registry) } : {}),
      ...(parseWebhook ? { parseWebhook: parseWebhook.bind(registry) } : {}),
    };
  }

  onEntry(entry: FeedEntry): void {
    const { event } = entry;
    switch (event.type) {
      case 'registry:observed': {
        const activity = this.#registryOf(event.registryId);
        if (activity && event.source === 'webhook')
          activity.lastWebhook = { at: event.at, repository: event.repository, tag: event.tag };
        break;
      }
      case 'adapter:error': {
        const activity = this.#registryOf(event.adapterId);
        if (activity)
          activity.lastError = {
            at: event.at,
            operation: event.operation,
            code: event.error.code,
            message: event.error.message,
          };
        break;
      }
      case 'engine:leadership':
        if (event.leader)
          for (const [holder, seen] of this.#replicas)
            if (holder !== event.holder && seen.leader)
              this.#replicas.set(holder, { ...seen, leader: false });
        this.#replicas.set(event.holder, {
          holder: event.holder,
          leader: event.leader,
          lastSeenAt: event.at,
        });
        break;
      default:
        break;
    }
  }

  registries(): Array<{ name: string } & RegistryActivity> {
    return [...this.#registries].map(([name, activity]) => ({ name, ...structuredClone(activity) }));
  }

  replicas(): ReplicaSeen[] {
    return [...this.#replicas.values()];
  }

  /** The replica that last said it leads, if it still does. */
  leader(): string | undefined {
    return [...this.#replicas.values()].find((replica) => replica.leader)?.holder;
  }

  #registryOf(adapterId: string): RegistryActivity | undefined {
    const name = this.#names.get(adapterId);
    return name === undefined ? undefined : this.#registries.get(name);
  }
}
