// Each broken fake breaks one promise of its contract; the kit must fail exactly the cases about it.
import { describe, expect, it } from 'vitest';
import type { DeployTarget } from '../src/contracts/deploy-target.ts';
import type { Registry } from '../src/contracts/registry.ts';
import type { ReverseProxy } from '../src/contracts/reverse-proxy.ts';
import type { StateStore } from '../src/contracts/state-store.ts';
import { CoreError, isCoreError } from '../src/errors.ts';
import type { MemoryDeployTarget } from '../src/memory/memory-deploy-target.ts';
import type { MemoryRegistryOptions } from '../src/memory/memory-registry.ts';
import { createMemoryStateStore, type MemoryStateStore } from '../src/memory/memory-state-store.ts';
import { deployTargetSuite } from '../src/testing/deploy-target-suite.ts';
import { notifierSuite } from '../src/testing/notifier-suite.ts';
import { registrySuite } from '../src/testing/registry-suite.ts';
import { reverseProxySuite } from '../src/testing/reverse-proxy-suite.ts';
import { stateStoreSuite } from '../src/testing/state-store-suite.ts';
import { type CaseResult, type ConformanceSuite, type HarnessBase, runCases } from '../src/testing/suite.ts';
import {
  memoryDeployTargetHarness,
  memoryNotifierHarness,
  memoryRegistryHarness,
  memoryReverseProxyHarness,
  memoryStateStoreHarness,
  webhookSecret,
} from './memory-harnesses.ts';

async function failing<H extends HarnessBase, Id extends string>(
  suite: ConformanceSuite<H, Id>,
  create: () => H | Promise<H>,
): Promise<Id[]> {
  const results: Array<CaseResult<Id>> = await runCases(suite, create);
  return results
    .filter((result) => result.status === 'failed')
    .map((result) => result.id)
    .sort();
}

const notFound = (what: string) => new CoreError('NOT_FOUND', `${what} does not exist`);

describe('the kit against working fakes', () => {
  it('fails no case of any contract', async () => {
    expect(await failing(registrySuite, () => memoryRegistryHarness({ webhookSecret }))).toEqual([]);
    expect(await failing(deployTargetSuite, () => memoryDeployTargetHarness())).toEqual([]);
    expect(await failing(reverseProxySuite, () => memoryReverseProxyHarness())).toEqual([]);
    expect(await failing(notifierSuite, () => memoryNotifierHarness())).toEqual([]);
    expect(await failing(stateStoreSuite, () => memoryStateStoreHarness())).toEqual([]);
  });
});

describe('broken registries', () => {
  const broken = (
    wrap: (registry: Registry) => Registry,
    options: MemoryRegistryOptions = { webhookSecret },
  ) => failing(registrySuite, () => memoryRegistryHarness(options, wrap));

  it('dropping the last page of tags fails list-tags-spans-pages', async () => {
    const ids = await broken((registry) => ({
      ...registry,
      listTags: async (params) => (await registry.listTags(params)).slice(0, 100),
    }));
    expect(ids).toEqual(['list-tags-spans-pages']);
  });

  it('resolving every tag while listing fails list-tags-makes-no-request-per-tag', async () => {
    const ids = await broken((registry) => ({
      ...registry,
      listTags: async (params) => {
        const tags = await registry.listTags(params);
        for (const reference of tags)
          await registry.resolveReference({ repository: params.repository, reference });
        return tags;
      },
    }));
    expect(ids).toEqual(['list-tags-makes-no-request-per-tag']);
  });

  it('an empty list for an unknown repository fails list-tags-unknown-repository-not-found', async () => {
    const ids = await broken((registry) => ({
      ...registry,
      listTags: (params) =>
        registry
          .listTags(params)
          .catch((error) => (isCoreError(error, 'NOT_FOUND') ? [] : Promise.reject(error))),
    }));
    expect(ids).toEqual(['list-tags-unknown-repository-not-found']);
  });

  it('NOT_FOUND for a missing tag fails resolve-missing-tag-returns-undefined', async () => {
    const ids = await broken((registry) => ({
      ...registry,
      resolveReference: async (params) =>
        (await registry.resolveReference(params)) ?? Promise.reject(notFound(params.reference)),
    }));
    expect(ids).toEqual(['resolve-missing-tag-returns-undefined']);
  });

  it('accepting unsigned webhooks fails webhook-forged-is-unauthorized', async () => {
    const ids = await broken((registry) => ({
      ...registry,
      parseWebhook: async (request) => {
        const body = JSON.parse(new TextDecoder().decode(request.body)) as { events?: unknown };
        if (!Array.isArray(body.events)) throw new CoreError('BAD_REQUEST', 'malformed');
        return body.events as never;
      },
    }));
    expect(ids).toEqual(['webhook-forged-is-unauthorized']);
  });

  it('parseWebhook without claiming webhooks fails parse-webhook-absent-when-unclaimed', async () => {
    const ids = await broken((registry) => ({ ...registry, parseWebhook: async () => [] }), {});
    expect(ids).toEqual(['parse-webhook-absent-when-unclaimed']);
  });

  it('claiming image config without readImageConfig fails read-image-config-returns-labels-and-ports', async () => {
    const ids = await broken((registry) => {
      const { readImageConfig: _dropped, ...rest } = registry;
      return rest;
    });
    expect(ids.toSorted()).toEqual([
      'read-image-config-of-an-index-needs-a-platform',
      'read-image-config-returns-labels-and-ports',
    ]);
  });

  it('reading some config of an index without a platform fails read-image-config-of-an-index-needs-a-platform', async () => {
    const ids = await broken((registry) => ({
      ...registry,
      // A guess: whatever the index holds, instead of asking the caller to choose.
      readImageConfig: async (params) =>
        registry.readImageConfig!(params).catch(() => ({ labels: {}, exposedPorts: [] })),
    }));
    expect(ids).toEqual(['read-image-config-of-an-index-needs-a-platform']);
  });

  it('ignoring the abort signal fails aborted-signal-aborts', async () => {
    const ids = await broken((registry) => ({
      ...registry,
      listTags: ({ signal: _ignored, ...params }) => registry.listTags(params),
    }));
    expect(ids).toEqual(['aborted-signal-aborts']);
  });

  it('a dispose that throws the second time fails dispose-is-idempotent', async () => {
    const ids = await broken((registry) => {
      let disposed = false;
      return {
        ...registry,
        dispose: async () => {
          if (disposed) throw new Error('disposed twice');
          disposed = true;
        },
      };
    });
    expect(ids).toEqual(['dispose-is-idempotent']);
  });
});

describe('broken deploy targets', () => {
  const broken = (wrap: (target: DeployTarget) => DeployTarget, options = {}) =>
    failing(deployTargetSuite, () => memoryDeployTargetHarness(options, wrap));

  it('a new instance per start fails start-is-idempotent-per-deploy', async () => {
    const ids = await broken((target) => {
      let calls = 0;
      return {
        ...target,
        start: async (params) => {
          calls += 1;
          const instance = await target.start({
            ...params,
            spec: { ...params.spec, deployId: `${params.spec.deployId}#${calls}` },
          });
          return { ...instance, deployId: params.spec.deployId };
        },
      };
    });
    expect(ids).toEqual(['start-is-idempotent-per-deploy']);
  });

  it('reporting healthy whatever runs fails the unhealthy and crashing cases', async () => {
    const ids = await broken((target) => ({ ...target, checkHealth: async () => ({ status: 'healthy' }) }));
    expect(ids).toEqual(['crashing-release-reports-exited', 'unhealthy-release-reports-unhealthy']);
  });

  it('ignoring the stage filter fails list-filters-by-project-and-stage', async () => {
    const ids = await broken((target) => ({
      ...target,
      list: ({ stage: _ignored, ...params }) => target.list(params),
    }));
    expect(ids).toEqual(['list-filters-by-project-and-stage']);
  });

  it('NOT_FOUND when retiring a gone instance fails retire-is-idempotent', async () => {
    const ids = await broken((target) => ({
      ...target,
      retire: async (params) => {
        const running = await target.list({ project: params.instance.project });
        if (!running.some((instance) => instance.id === params.instance.id))
          throw notFound(params.instance.id);
        await target.retire(params);
      },
    }));
    expect(ids).toEqual(['retire-is-idempotent']);
  });

  it('a watch that reports no restart fails endpoint-stable-across-restart', async () => {
    const ids = await broken((target) => ({ ...target, watchInstances: async () => {} }));
    expect(ids).toEqual(['endpoint-stable-across-restart']);
  });

  it('an instance that comes back on a new endpoint fails endpoint-stable-across-restart', async () => {
    const ids = await failing(deployTargetSuite, () => {
      const harness = memoryDeployTargetHarness();
      const target = harness.target as MemoryDeployTarget;
      return { ...harness, restart: async (instance) => target.restart(instance.id, { moveEndpoint: true }) };
    });
    expect(ids).toEqual(['endpoint-stable-across-restart']);
  });

  it('a retire that leaves the instance running fails retire-removes-instance', async () => {
    const ids = await broken((target) => ({ ...target, retire: async () => {} }));
    expect(ids).toEqual(['retire-removes-instance']);
  });

  it('a revert that leaves the candidate running fails revert-restores-previous', async () => {
    const ids = await broken((target) => ({ ...target, revert: async () => {} }));
    expect(ids).toEqual(['revert-restores-previous']);
  });

  it('an in-place revert that does not bring the release before back fails revert-restores-previous', async () => {
    const ids = await broken(
      (target) => ({
        ...target,
        revert: async (params) => {
          await target.retire(params);
        },
      }),
      { replacement: 'in-place' },
    );
    expect(ids).toEqual(['revert-restores-previous']);
  });

  it('claiming blue-green while replacing instances fails blue-green-runs-two-releases-side-by-side', async () => {
    const ids = await broken((target) => ({ ...target, capabilities: { blueGreen: true, canary: false } }), {
      blueGreen: false,
    });
    // The release before a candidate is gone too, so reverting the candidate cannot bring it back.
    expect(ids).toEqual(['blue-green-runs-two-releases-side-by-side', 'revert-restores-previous']);
  });
});

describe('broken reverse proxies', () => {
  const broken = (wrap: (proxy: ReverseProxy) => ReverseProxy) =>
    failing(reverseProxySuite, () => memoryReverseProxyHarness(wrap));

  it('a case-sensitive proxy fails hosts-compare-case-insensitively', async () => {
    const ids = await broken((proxy) => ({
      ...proxy,
      getRoute: async (params) =>
        params.host === params.host.toLowerCase() ? proxy.getRoute(params) : undefined,
      removeRoute: async (params) =>
        params.host === params.host.toLowerCase() ? proxy.removeRoute(params) : undefined,
    }));
    expect(ids).toEqual(['hosts-compare-case-insensitively']);
  });

  it('keeping the first upstream fails ensure-route-updates-upstream', async () => {
    const ids = await broken((proxy) => ({
      ...proxy,
      ensureRoute: async (params) =>
        (await proxy.getRoute({ host: params.route.host })) ?? proxy.ensureRoute(params),
    }));
    expect(ids).toEqual(['ensure-route-updates-upstream']);
  });

  it('NOT_FOUND when removing an absent route fails remove-absent-route-is-fine', async () => {
    const ids = await broken((proxy) => ({
      ...proxy,
      removeRoute: async (params) => {
        if (!(await proxy.getRoute(params))) throw notFound(params.host);
        await proxy.removeRoute(params);
      },
    }));
    expect(ids).toEqual(['remove-absent-route-is-fine']);
  });
});

describe('broken notifiers', () => {
  it('delivering events outside the filter fails notify-honours-event-filter', async () => {
    const ids = await failing(notifierSuite, () => {
      const harness = memoryNotifierHarness();
      // Declares the filter but delivers everything.
      return { ...harness, filtered: (events) => ({ ...harness.notifier, events }) };
    });
    expect(ids).toEqual(['notify-honours-event-filter']);
  });

  it('a raw transport error fails delivery-failure-is-retryable-core-error', async () => {
    const ids = await failing(notifierSuite, () => {
      const harness = memoryNotifierHarness();
      return {
        ...harness,
        notifier: {
          ...harness.notifier,
          notify: (params) =>
            harness.notifier
              .notify(params)
              .catch((error) =>
                Promise.reject(isCoreError(error, 'UNAVAILABLE') ? new Error('socket hang up') : error),
              ),
        },
      };
    });
    expect(ids).toEqual(['delivery-failure-is-retryable-core-error']);
  });

  it('a digest sent as one message per event fails digest-is-one-message', async () => {
    const ids = await failing(notifierSuite, () => {
      const harness = memoryNotifierHarness();
      const { notifier } = harness;
      return {
        ...harness,
        notifier: {
          ...notifier,
          notifyDigest: async ({
            digest,
            signal,
          }: Parameters<NonNullable<typeof notifier.notifyDigest>>[0]) => {
            for (const event of digest.events)
              await notifier.notify({ event, ...(signal ? { signal } : {}) });
          },
        },
      };
    });
    expect(ids).toEqual(['digest-is-one-message']);
  });
});

describe('broken state stores', () => {
  const broken = (wrap: (store: MemoryStateStore) => StateStore) =>
    failing(stateStoreSuite, () => memoryStateStoreHarness(wrap));

  it('a store without compare-and-set fails the conflict cases', async () => {
    const ids = await broken((store) => ({
      ...store,
      putStage: async (params) => {
        const current = await store.getStage(params.state);
        return store.putStage({ ...params, expectedRevision: current?.revision ?? 0 });
      },
      updateDeploy: async (params) => {
        const current = await store.getDeploy({ id: params.id });
        return store.updateDeploy({
          ...params,
          expectedRevision: current?.revision ?? params.expectedRevision,
        });
      },
    }));
    expect(ids).toEqual([
      'put-stage-create-twice-conflicts',
      'put-stage-missing-with-revision-conflicts',
      'put-stage-stale-revision-conflicts-and-changes-nothing',
      'update-deploy-compares-and-sets',
    ]);
  });

  it('listing deploys oldest first fails the listDeploys cases', async () => {
    const ids = await broken((store) => ({
      ...store,
      listDeploys: async ({ limit, ...params } = {}) =>
        (await store.listDeploys(params)).reverse().slice(0, limit),
    }));
    expect(ids).toEqual([
      'list-deploys-filters',
      'list-deploys-filters-by-state-trigger-and-time',
      'list-deploys-limit-and-before',
      'list-deploys-newest-first',
    ]);
  });

  it('leases granted to anyone fail the lease cases', async () => {
    const ids = await broken((store) => ({
      ...store,
      acquireLease: async ({ name, holder, ttlMs }) => ({
        name,
        holder,
        expiresAt: new Date(Date.now() + ttlMs).toISOString(),
      }),
    }));
    expect(ids).toEqual([
      'lease-is-exclusive-until-expiry',
      'lease-release-frees-it',
      'lease-renews-for-its-holder',
    ]);
  });

  it('a mark cleared whatever its number fails repository-marks-grow-and-clear-by-number', async () => {
    const ids = await broken((store) => ({
      ...store,
      clearRepositoryMark: async (params) => {
        const current = (await store.listRepositoryMarks()).find(
          (m) => m.registry === params.registry && m.repository === params.repository,
        );
        return current ? store.clearRepositoryMark({ ...params, mark: current.mark }) : false;
      },
    }));
    expect(ids).toEqual(['repository-marks-grow-and-clear-by-number']);
  });

  it('a claimed durability that forgets on reopen fails durable-state-survives-reopen', async () => {
    const durably = (store: StateStore): StateStore => ({
      ...store,
      capabilities: { ...store.capabilities, durable: true },
    });
    const forgetful = await failing(stateStoreSuite, () => ({
      store: durably(createMemoryStateStore()),
      reopen: async () => durably(createMemoryStateStore()),
    }));
    expect(forgetful).toEqual(['durable-state-survives-reopen']);

    // The same gate passes a store whose reopen sees the same data.
    const keeping = await failing(stateStoreSuite, () => {
      const data = createMemoryStateStore();
      const view = (): StateStore => ({ ...durably(data), dispose: async () => {} });
      return { store: view(), reopen: async () => view(), dispose: () => data.dispose() };
    });
    expect(keeping).toEqual([]);
  });
});
