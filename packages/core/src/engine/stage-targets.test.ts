import { afterEach, describe, expect, it } from 'vitest';
import {
  createMemoryDeployTarget,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryStateStore,
} from '../memory/index.ts';
import { compileTagPolicy } from '../policy/index.ts';
import { createEngine, type Engine } from './engine.ts';
import type { EngineStage } from './engine-config.ts';

const repository = 'team/web-app';
const health = { path: '/health', intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 };
const stage = (pattern: string, name: string): EngineStage => ({
  policy: compileTagPolicy({ pattern }),
  autoDeploy: true,
  deploy: { image: `registry.example.com/${repository}`, port: 8080, health, host: `${name}.example.com` },
});

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

/** `dev` on a target that runs two releases side by side, `prod` on one that cannot (another host). */
function world() {
  const registry = createMemoryRegistry();
  const docker = createMemoryDeployTarget({ host: 'docker.internal' });
  const nomad = createMemoryDeployTarget({ host: 'nomad.internal', blueGreen: false });
  const proxy = createMemoryReverseProxy();
  const store = createMemoryStateStore();
  const engine = createEngine({
    projects: [
      {
        id: 'web-app',
        registry: 'main',
        repository,
        stages: { dev: stage('v*', 'dev'), prod: stage('v*', 'prod') },
      },
    ],
    registries: { main: registry },
    target: { of: (ref) => (ref.stage === 'prod' ? nomad : docker), all: [docker, nomad] },
    proxy,
    store,
    pollIntervalMs: 0,
  });
  engines.push(engine);
  return { registry, docker, nomad, proxy, store, engine };
}

const stagesOn = (target: ReturnType<typeof createMemoryDeployTarget>) =>
  target.instances.filter((i) => i.state === 'running').map((i) => i.stage);

describe('an engine with a target per stage', () => {
  it("deploys each stage to its own target, with that target's default strategy", async () => {
    const w = world();
    w.registry.push(repository, 'v1');
    await w.engine.start();
    await w.engine.idle();
    expect(stagesOn(w.docker)).toEqual(['dev']);
    expect(stagesOn(w.nomad)).toEqual(['prod']);
    w.registry.push(repository, 'v2');
    await w.engine.pollOnce();
    await w.engine.idle();
    // A blue-green deploy retires the old release after the switch; a recreate removes it before the start.
    const retiredAfterSwitch = async (name: string) =>
      (await w.store.listDeploys({ project: 'web-app', stage: name })).map((d) =>
        d.journal.some((entry) => entry.state === 'retiring-old'),
      );
    expect(await retiredAfterSwitch('dev')).toEqual([true, true]);
    expect(await retiredAfterSwitch('prod')).toEqual([false, false]);
    expect(stagesOn(w.docker)).toEqual(['dev']);
    expect(stagesOn(w.nomad)).toEqual(['prod']);
  });

  it("heals a drifted route to an instance of the stage's own target", async () => {
    const w = world();
    w.registry.push(repository, 'v1');
    await w.engine.start();
    await w.engine.idle();
    const serving = w.nomad.instances.find((i) => i.state === 'running')!;
    await w.proxy.ensureRoute({
      route: { host: 'prod.example.com', upstream: { host: '127.0.0.1', port: 1 } },
    });
    await w.engine.healRoutesOnce();
    expect(w.proxy.routes.find((r) => r.host === 'prod.example.com')?.upstream).toEqual(serving.endpoint);
  });
});
