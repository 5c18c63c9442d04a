// Drives the engine's real deploy state machine (`runDeploy`) against a docker target, with core's
// in-memory proxy and store, so a test reads the deploy record exactly as the server would.
import {
  createEventBus,
  createMemoryReverseProxy,
  createMemoryStateStore,
  type DeployRecord,
  type DeployTarget,
  type DockerWatcherEvent,
  type HealthCheckSettings,
  type Release,
  type StageDeploySettings,
} from '@docker-watcher/core';
import { runDeploy } from '@docker-watcher/core/testing';
import { appPort } from '@docker-watcher/testkit';

export const fastHealth: HealthCheckSettings = {
  path: '/health',
  intervalMs: 200,
  timeoutMs: 1_000,
  retries: 2,
  startPeriodMs: 0,
};

export interface DeployResult {
  readonly record: DeployRecord;
  /** The record's log lines, oldest first. */
  readonly log: readonly string[];
}

export function deployHarness(params: {
  readonly target: DeployTarget;
  readonly image: string;
  readonly project: string;
  readonly stage?: string;
}) {
  const store = createMemoryStateStore();
  const proxy = createMemoryReverseProxy();
  const bus = createEventBus();
  const events: DockerWatcherEvent[] = [];
  bus.onAny((event) => void events.push(event));
  const project = params.project;
  const stage = params.stage ?? 'dev';
  const host = `stage-${stage}-${project}.example.test`;
  let n = 0;

  const deploy = async (
    release: Release,
    overrides: Partial<StageDeploySettings> & { target?: DeployTarget } = {},
  ): Promise<DeployResult> => {
    const { target = params.target, ...settings } = overrides;
    const previous = (await store.getStage({ project, stage }))?.actual;
    const record = await store.createDeploy({
      deploy: {
        id: `${project}-d${++n}`,
        project,
        stage,
        release,
        ...(previous ? { previous } : {}),
        trigger: 'manual',
        state: 'pending',
        data: {},
      },
    });
    const done = await runDeploy(
      { store, target, proxy, bus },
      {
        deployId: record.id,
        settings: {
          image: params.image,
          port: appPort,
          strategy: 'blue-green',
          health: fastHealth,
          host,
          ...settings,
        },
      },
    );
    const log = (await store.readLog({ deployId: done.id })).map((line) => line.line);
    return { record: done, log };
  };

  const route = async () => (await proxy.getRoute({ host }))?.upstream;

  return { store, proxy, events, host, deploy, route, project, stage };
}

export const statesOf = (record: DeployRecord): string[] => record.journal.map((entry) => entry.state);
