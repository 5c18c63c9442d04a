import type { StateStore } from '../contracts/state-store.ts';
import { createEngine, type Engine } from '../engine/engine.ts';
import type { EngineProject } from '../engine/engine-config.ts';
import { createMemoryDeployTarget } from '../memory/memory-deploy-target.ts';
import { createMemoryRegistry } from '../memory/memory-registry.ts';
import { compileTagPolicy } from '../policy/tag-policy.ts';
import { check, same, sleep } from './assertions.ts';

/** One project with one `dev` stage that deploys every `dev-*` tag at once, blue-green. */
export function devStageProject(project: string, repository: string, host?: string): EngineProject {
  return {
    id: project,
    registry: 'main',
    repository,
    stages: {
      dev: {
        policy: compileTagPolicy({ pattern: 'dev-*' }),
        autoDeploy: true,
        deploy: {
          image: `registry.example.com/${repository}`,
          port: 8080,
          strategy: 'blue-green',
          health: { path: '/', intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 },
          ...(host ? { host } : {}),
        },
      },
    },
  };
}

/**
 * Two engines, each on its own handle of one store (as two server replicas are), both told of
 * every push: each push must make exactly one deploy, and exactly one engine must lead. This is
 * what `capabilities.sharedLeases` promises to the engine.
 */
export async function checkReplicasDeployOnce(
  stores: readonly [StateStore, StateStore],
  project: string,
): Promise<void> {
  const repository = `team/${project}`;
  const registry = createMemoryRegistry({ webhookSecret: 'conformance' });
  const target = createMemoryDeployTarget();
  const engines: Engine[] = stores.map((store, n) =>
    createEngine({
      projects: [devStageProject(project, repository)],
      registries: { main: registry },
      target,
      store,
      pollIntervalMs: 0,
      coalesceMs: 5,
      replica: { holder: `replica-${n}`, leaseTtlMs: 2_000 },
    }),
  );
  try {
    for (const engine of engines) await engine.start();
    same(
      engines.filter((engine) => engine.leadership().leader).length,
      1,
      'replicas leading (exactly one polls)',
    );
    const tags = ['dev-1', 'dev-2', 'dev-3'];
    for (const tag of tags) {
      const digest = registry.push(repository, tag);
      await Promise.all(
        engines.map((engine, n) =>
          engine.ingestWebhook({
            registry: 'main',
            request: registry.webhookRequest([
              { repository, tag, digest, action: 'pushed', eventId: `${project}-${tag}-${n}` },
            ]),
          }),
        ),
      );
      const deadline = Date.now() + 10_000;
      for (;;) {
        await Promise.all(engines.map((engine) => engine.idle()));
        const deploys = await stores[0].listDeploys({ project, stage: 'dev' });
        if (deploys.some((d) => d.release.tag === tag && d.finished)) break;
        check(Date.now() < deadline, `no deploy of ${tag} finished within 10 s`);
        await sleep(20);
      }
    }
    await Promise.all(engines.map((engine) => engine.idle()));
    const deploys = await stores[1].listDeploys({ project, stage: 'dev' });
    same(
      deploys.map((d) => `${d.release.tag}:${d.state}`).sort(),
      tags.map((tag) => `${tag}:succeeded`),
      'deploys (one per push)',
    );
    same(
      target.instances.filter((i) => i.state === 'running').map((i) => i.release.tag),
      ['dev-3'],
      'running instances',
    );
  } finally {
    for (const engine of engines) await engine.stop();
  }
}
