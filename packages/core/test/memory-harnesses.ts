// Harnesses that put the in-memory adapters under the conformance kit. `wrap` lets the kit's own
// tests break one behaviour while seeding still goes to the working fake underneath.
import type { DeployTarget } from '../src/contracts/deploy-target.ts';
import type { Notifier } from '../src/contracts/notifier.ts';
import type { Registry } from '../src/contracts/registry.ts';
import type { Release } from '../src/contracts/release.ts';
import type { ReverseProxy } from '../src/contracts/reverse-proxy.ts';
import type { StateStore } from '../src/contracts/state-store.ts';
import {
  createMemoryDeployTarget,
  type MemoryDeployTarget,
  type MemoryDeployTargetOptions,
} from '../src/memory/memory-deploy-target.ts';
import { createMemoryNotifier, type MemoryNotifier } from '../src/memory/memory-notifier.ts';
import {
  createMemoryRegistry,
  createMemoryWebhookRequest,
  type MemoryRegistry,
  type MemoryRegistryOptions,
  memoryWebhookSignatureHeader,
  signMemoryWebhook,
} from '../src/memory/memory-registry.ts';
import { createMemoryReverseProxy, type MemoryReverseProxy } from '../src/memory/memory-reverse-proxy.ts';
import { createMemoryStateStore, type MemoryStateStore } from '../src/memory/memory-state-store.ts';
import type { DeployTargetHarness } from '../src/testing/deploy-target-suite.ts';
import type { NotifierHarness, ReceivedNotification } from '../src/testing/notifier-suite.ts';
import type { RegistryHarness } from '../src/testing/registry-suite.ts';
import type { ReverseProxyHarness } from '../src/testing/reverse-proxy-suite.ts';
import type { StateStoreHarness } from '../src/testing/state-store-suite.ts';

export const webhookSecret = 'conformance-secret';

export function memoryRegistryHarness(
  options: MemoryRegistryOptions = { webhookSecret },
  wrap: (registry: MemoryRegistry) => Registry = (registry) => registry,
): RegistryHarness {
  const base = createMemoryRegistry(options);
  const secret = options.webhookSecret ?? webhookSecret;
  return {
    registry: wrap(base),
    seed: async ({ repository, tags, platforms, config }) => {
      const digests: Record<string, string> = {};
      for (const tag of tags) {
        digests[tag] = base.push(repository, tag, {
          ...(platforms ? { platforms } : {}),
          ...(config ? { config } : {}),
        });
      }
      return { repository, digests };
    },
    requestCount: () => base.requests,
    webhooks: {
      signed: (observation) => createMemoryWebhookRequest({ observations: [observation], secret }),
      forged: (observation) =>
        createMemoryWebhookRequest({ observations: [observation], secret: `${secret}-forged` }),
      malformed: () => {
        const body = new TextEncoder().encode('{"events":"not a list"}');
        return { headers: { [memoryWebhookSignatureHeader]: signMemoryWebhook(body, secret) }, body };
      },
    },
  };
}

const sha = (char: string): string => `sha256:${char.repeat(64)}`;

export const fixtureReleases: {
  readonly good: Release;
  readonly unhealthy: Release;
  readonly crashing: Release;
} = {
  good: { tag: 'v1.0.0', digest: sha('1') },
  unhealthy: { tag: 'v1.0.1-unhealthy', digest: sha('2') },
  crashing: { tag: 'v1.0.2-crashing', digest: sha('3') },
};

export function memoryDeployTargetHarness(
  options: MemoryDeployTargetOptions = {},
  wrap: (target: MemoryDeployTarget) => DeployTarget = (target) => target,
): DeployTargetHarness {
  const base = createMemoryDeployTarget(options);
  base.simulate(fixtureReleases.unhealthy.digest, 'unhealthy');
  base.simulate(fixtureReleases.crashing.digest, 'crashing');
  return {
    target: wrap(base),
    image: 'registry.test/conformance/web',
    releases: fixtureReleases,
    port: 8080,
    health: { path: '/health', intervalMs: 5, timeoutMs: 100, retries: 1, startPeriodMs: 0 },
    settleTimeoutMs: 1_000,
    restart: async (instance) => base.restart(instance.id),
  };
}

export function memoryReverseProxyHarness(
  wrap: (proxy: MemoryReverseProxy) => ReverseProxy = (proxy) => proxy,
): ReverseProxyHarness {
  return { proxy: wrap(createMemoryReverseProxy()) };
}

export function memoryNotifierHarness(
  wrap: (notifier: MemoryNotifier) => Notifier = (notifier) => notifier,
): NotifierHarness {
  // One "backend" behind every notifier the harness hands out, recording messages in order.
  const received: ReceivedNotification[] = [];
  const make = (options: Parameters<typeof createMemoryNotifier>[0] = {}): MemoryNotifier => {
    const notifier = createMemoryNotifier(options);
    const { notify, notifyDigest } = notifier;
    notifier.notify = async (params) => {
      const before = notifier.delivered.length;
      await notify(params);
      for (const event of notifier.delivered.slice(before)) {
        received.push({
          type: event.type,
          ...('project' in event ? { project: event.project, stage: event.stage } : {}),
        });
      }
    };
    notifier.notifyDigest = async (params) => {
      const before = notifier.digests.length;
      await notifyDigest(params);
      for (const digest of notifier.digests.slice(before)) {
        const projects = new Set(
          digest.events.flatMap((event) => ('project' in event ? [event.project] : [])),
        );
        const [project] = projects;
        received.push({ type: 'digest', ...(projects.size === 1 && project ? { project } : {}) });
      }
    };
    return notifier;
  };
  const notifiers: MemoryNotifier[] = [make()];
  const main = notifiers[0] as MemoryNotifier;
  let broken = false;
  return {
    notifier: wrap(main),
    received: () => received,
    breakBackend: () => {
      broken = true;
      for (const notifier of notifiers) notifier.faults.failAlways('notify', 'UNAVAILABLE');
    },
    filtered: (events) => {
      const notifier = make({ events: [...events] });
      if (broken) notifier.faults.failAlways('notify', 'UNAVAILABLE');
      notifiers.push(notifier);
      return wrap(notifier);
    },
  };
}

export function memoryStateStoreHarness(
  wrap: (store: MemoryStateStore) => StateStore = (store) => store,
): StateStoreHarness {
  return { store: wrap(createMemoryStateStore({ historyLimit: 50 })), historyLimit: 50 };
}
