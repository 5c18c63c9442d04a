import {
  createEventBus,
  createMemoryLogger,
  createMemoryReverseProxy,
  createMemoryStateStore,
  type DeployRecord,
  type DockerWatcherEvent,
  type EventBus,
  type MemoryLogger,
  type Release,
  type StageDeploySettings,
  type StageRef,
  type StepDeadlines,
} from '@docker-watcher/core';
import { runDeploy } from '@docker-watcher/core/testing';
import { afterEach } from 'vitest';
import { createNomadTarget, type NomadTarget, type NomadTargetOptions } from '../../src/index.ts';
import { type FakeJobSeed, type FakeNomad, type FakeNomadOptions, startFakeNomad } from './fake-nomad.ts';
import { image, releases } from './fixtures.ts';

export const jobId = 'web-app-dev';
export const endpoint = { host: 'web-app-dev.service.consul', port: 8080 } as const;
export const host = 'stage-dev-web-app.example.com';
export const token = 'nomad-acl-secret-6c1f8b2a';

const cleanups: Array<() => Promise<void>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

export interface Setup {
  readonly nomad: FakeNomad;
  readonly target: NomadTarget;
  readonly logger: MemoryLogger;
  readonly store: ReturnType<typeof createMemoryStateStore>;
  readonly proxy: ReturnType<typeof createMemoryReverseProxy>;
  readonly events: DockerWatcherEvent[];
  readonly bus: EventBus;
  /**
   * Decides every promotion approval the runner opens from now on, as the engine's `approve` and
   * `reject` do: the approval is written, then `approval:decided` is emitted.
   */
  decidePromotions(status: 'approved' | 'rejected', comment?: string): void;
  /** Creates a deploy record of web-app/dev and runs it with `runDeploy` to its end. */
  deploy(release: Release, previous?: Release): Promise<DeployRecord>;
  /** The lines of a deploy's log. */
  log(record: DeployRecord): Promise<string[]>;
  /** The image the job's app task runs now. */
  currentImage(): string | undefined;
}

/**
 * A fake Nomad with job `web-app-dev` (version 0 stable, serving an older release), a target bound to
 * it, and the core's in-memory store, proxy and event bus around `runDeploy`.
 */
export async function setup(
  options: {
    readonly seed?: Partial<FakeJobSeed>;
    readonly target?: Partial<NomadTargetOptions>;
    readonly fake?: FakeNomadOptions;
    readonly deadlines?: Partial<StepDeadlines>;
  } = {},
): Promise<Setup> {
  const nomad = await startFakeNomad({ tokens: { [token]: 'write' }, ...options.fake });
  nomad.seed({ id: jobId, image: `${image}:0.9.0`, ...options.seed });
  for (const [name, behaviour] of [
    ['unhealthy', 'unhealthy'],
    ['crashing', 'crashing'],
    ['blocked', 'blocked'],
    ['stuck', 'stuck'],
  ] as const) {
    nomad.behave(releases[name].digest, behaviour);
  }
  const logger = createMemoryLogger();
  // `web-app/dev` gives its job in its stage options, unless a test binds jobs the deprecated way.
  const stageOptions = (ref: StageRef) =>
    ref.project === 'web-app' && ref.stage === 'dev' ? { job: jobId, endpoint } : undefined;
  const target = createNomadTarget(
    {
      address: nomad.url,
      token,
      blockingQueryWaitMs: 2_000,
      deploymentTimeoutMs: 10_000,
      ...options.target,
    },
    { logger, ...(options.target?.jobs ? {} : { stageOptions }) },
  );
  cleanups.push(async () => {
    await target.dispose();
    await nomad.close();
  });
  const store = createMemoryStateStore();
  const proxy = createMemoryReverseProxy();
  const bus = createEventBus();
  const events: DockerWatcherEvent[] = [];
  bus.onAny((event) => void events.push(event));
  const settings: StageDeploySettings = {
    image,
    port: 8080,
    // What the engine picks for a target without blueGreen.
    strategy: target.capabilities.blueGreen ? 'blue-green' : 'recreate',
    health: { intervalMs: 10, timeoutMs: 1_000, retries: 2, startPeriodMs: 0 },
    host,
    ...(options.deadlines ? { deadlines: options.deadlines } : {}),
  };
  let n = 0;
  return {
    nomad,
    target,
    logger,
    store,
    proxy,
    events,
    bus,
    decidePromotions(status, comment) {
      bus.on('deploy:awaiting-confirmation', async ({ approvalId }) => {
        const approval = await store.getApproval({ id: approvalId });
        if (!approval) return;
        const decidedAt = new Date().toISOString();
        await store.putApproval({
          approval: { ...approval, status, decidedAt, decidedBy: 'ops', ...(comment ? { comment } : {}) },
        });
        bus.emit({
          type: 'approval:decided',
          at: decidedAt,
          project: approval.project,
          stage: approval.stage,
          approvalId,
          release: approval.release,
          status,
          by: 'ops',
        });
      });
    },
    async deploy(release, previous) {
      const record = await store.createDeploy({
        deploy: {
          id: `deploy-${++n}`,
          project: 'web-app',
          stage: 'dev',
          release,
          ...(previous ? { previous } : {}),
          trigger: 'auto',
          state: 'pending',
          data: {},
        },
      });
      return runDeploy({ store, target, proxy, bus, logger }, { deployId: record.id, settings });
    },
    async log(record) {
      return (await store.readLog({ deployId: record.id })).map((line) => line.line);
    },
    currentImage() {
      const task = nomad.job(jobId)?.TaskGroups[0]?.Tasks[0];
      return task?.Config.image;
    },
  };
}

export const ref = (release: Release) => `${image}@${release.digest}`;
