import { afterEach, describe, expect, it } from 'vitest';
import type { DeployTarget } from '../contracts/deploy-target.ts';
import {
  createMemoryDeployTarget,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createMemoryStateStore,
} from '../memory/index.ts';
import { compileTagPolicy } from '../policy/index.ts';
import type { DeployStrategy } from './deploy-settings.ts';
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

describe('a stage whose target cannot run two releases of it side by side', () => {
  /** One memory target on which `prod`'s own options hold a fixed port, as a Docker stage's `publish: 8080` does. */
  const fixedPortForProd = () => {
    const target = createMemoryDeployTarget({ host: 'docker.internal' });
    const checked = Object.create(target) as typeof target;
    Object.defineProperty(checked, 'notSideBySide', {
      value: (ref: { stage: string }) =>
        ref.stage === 'prod' ? 'publishes the fixed host port 8080' : undefined,
    });
    return { target, checked };
  };
  const engineOn = (target: DeployTarget, strategy?: DeployStrategy) => {
    const registry = createMemoryRegistry();
    const store = createMemoryStateStore();
    const withStrategy = (name: string): EngineStage => {
      const base = stage('v*', name);
      return strategy ? { ...base, deploy: { ...base.deploy, strategy } } : base;
    };
    const engine = createEngine({
      projects: [
        {
          id: 'web-app',
          registry: 'main',
          repository,
          stages: { dev: withStrategy('dev'), prod: withStrategy('prod') },
        },
      ],
      registries: { main: registry },
      target,
      proxy: createMemoryReverseProxy(),
      store,
      pollIntervalMs: 0,
    });
    engines.push(engine);
    return { engine, registry, store };
  };

  it("is a config error at the stage's path when it asks for blue-green, never a silent recreate", () => {
    expect(() => engineOn(fixedPortForProd().checked, 'blue-green')).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message:
          'projects.web-app.stages.prod.deploy.strategy: blue-green runs two releases at once, but this stage publishes the fixed host port 8080: use recreate',
      }),
    );
    expect(() => engineOn(createMemoryDeployTarget({ replacement: 'in-place' }), 'blue-green')).toThrow(
      'projects.web-app.stages.dev.deploy.strategy: blue-green runs two releases at once, but target:memory replaces a release in place: use recreate',
    );
    // A side-by-side target without blueGreen may drive its own switch in the runner's blue-green order.
    expect(() => engineOn(createMemoryDeployTarget({ blueGreen: false }), 'blue-green')).not.toThrow();
  });

  it('deploys with recreate when no strategy is given, while the other stages on the target stay blue-green', async () => {
    const { checked } = fixedPortForProd();
    const { engine, registry, store } = engineOn(checked);
    registry.push(repository, 'v1');
    await engine.start();
    await engine.idle();
    registry.push(repository, 'v2');
    await engine.pollOnce();
    await engine.idle();
    const deploys = await store.listDeploys({ project: 'web-app' });
    const retiredAfterSwitch = (name: string) =>
      deploys
        .filter((d) => d.stage === name)
        .map((d) => d.journal.some((entry) => entry.state === 'retiring-old'));
    expect(retiredAfterSwitch('dev')).toEqual([true, true]);
    expect(retiredAfterSwitch('prod')).toEqual([false, false]);
  });
});
