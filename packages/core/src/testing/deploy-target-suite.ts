import type {
  DeployTarget,
  HealthCheckSettings,
  HealthReport,
  HealthStatus,
  Instance,
  InstanceChange,
  InstanceSpec,
} from '../contracts/deploy-target.ts';
import type { Release } from '../contracts/release.ts';
import {
  abortedSignal,
  check,
  checkAdapterId,
  checkFlags,
  defined,
  expectCoreError,
  pollUntil,
  same,
} from './assertions.ts';
import {
  type CaseContext,
  type CaseResult,
  type ConformanceSuite,
  caseTable,
  disposeIsIdempotentCase,
  type HarnessBase,
  runCase,
} from './suite.ts';

export interface DeployTargetHarness extends HarnessBase {
  readonly target: DeployTarget;
  /** Image repository of the fixture releases, e.g. `localhost:5000/conformance/web`. */
  readonly image: string;
  /** Releases of `image` the target can run. */
  readonly releases: {
    /** Starts, serves `health.path` on `port`, and becomes healthy. */
    readonly good: Release;
    /** Keeps running but fails its health check. */
    readonly unhealthy: Release;
    /** Exits right after starting. */
    readonly crashing: Release;
  };
  /** The container port that serves traffic and the health path. */
  readonly port?: number;
  /** Settings that suit the fixture image. Default: `/health`, every 200 ms, 2 s timeout, 3 retries, no start period. */
  readonly health?: HealthCheckSettings;
  /** How long a case keeps probing before it judges the health; 30 s by default. */
  readonly settleTimeoutMs?: number;
  /**
   * The target is set up to ask for a confirmation before it promotes a candidate (a canary target's
   * `promote: confirm`): its starts return candidates `awaitingPromotion`, and it has `promote()`.
   */
  readonly awaitsPromotion?: boolean;
  /**
   * Restarts an instance behind the target's back, as its backend does on its own (Docker: `docker
   * restart`, a restart policy). Needed by a harness whose target has `watchInstances()`.
   */
  readonly restart?: (instance: Instance) => Promise<void>;
}

export type DeployTargetCaseId =
  | 'id-names-kind-and-backend'
  | 'capabilities-are-flags'
  | 'start-returns-running-instance-with-endpoint'
  | 'start-is-idempotent-per-deploy'
  | 'good-release-becomes-healthy'
  | 'unhealthy-release-reports-unhealthy'
  | 'crashing-release-reports-exited'
  | 'list-filters-by-project-and-stage'
  | 'retire-removes-instance'
  | 'retire-is-idempotent'
  | 'revert-restores-previous'
  | 'promote-after-approval'
  | 'blue-green-runs-two-releases-side-by-side'
  | 'endpoint-stable-across-restart'
  | 'pull-fetches-release'
  | 'logs-returns-at-most-tail-lines'
  | 'aborted-signal-aborts'
  | 'dispose-is-idempotent';

const defaultHealth: HealthCheckSettings = {
  path: '/health',
  intervalMs: 200,
  timeoutMs: 2_000,
  retries: 3,
  startPeriodMs: 0,
};

const healthOf = (harness: DeployTargetHarness): HealthCheckSettings => harness.health ?? defaultHealth;

function specFor(
  harness: DeployTargetHarness,
  unique: string,
  overrides: { project?: string; stage?: string; deploy?: string; release?: Release } = {},
): InstanceSpec {
  return {
    project: overrides.project ?? `conformance-${unique}`,
    stage: overrides.stage ?? 'dev',
    deployId: `deploy-${unique}-${overrides.deploy ?? '1'}`,
    image: harness.image,
    release: overrides.release ?? harness.releases.good,
    ...(harness.port === undefined ? {} : { port: harness.port }),
  };
}

/** Starts an instance and retires it again after the case. */
async function startFor(context: CaseContext<DeployTargetHarness>, spec: InstanceSpec): Promise<Instance> {
  const { target } = context.harness;
  const instance = await target.start({ spec });
  context.defer(() => target.retire({ instance }));
  return instance;
}

/** Instances `list` shows running of a deploy, or with the id of `instance` (an in-place target gives a restored release a new one). */
const runningOf = (listed: readonly Instance[], deployId: string, instance?: Instance) =>
  listed.filter(
    (item) => item.state === 'running' && (item.deployId === deployId || item.id === instance?.id),
  );

/** Probes until the status settles (anything but `starting`, or `healthy` when waiting for it). */
async function settle(
  harness: DeployTargetHarness,
  instance: Instance,
  until: (status: HealthStatus) => boolean,
): Promise<HealthReport[]> {
  const health = healthOf(harness);
  return pollUntil(
    () => harness.target.checkHealth({ instance, health }),
    (report) => until(report.status),
    { intervalMs: health.intervalMs, timeoutMs: harness.settleTimeoutMs ?? 30_000 },
  );
}

const statuses = (reports: readonly HealthReport[]): string =>
  reports.map((report) => report.status).join(', ');

export const deployTargetCases = caseTable<DeployTargetHarness, DeployTargetCaseId>({
  'id-names-kind-and-backend': {
    title: 'id is target:<name>',
    run: async ({ harness }) => checkAdapterId(harness.target.id, 'target'),
  },
  'capabilities-are-flags': {
    title: 'capabilities are boolean flags and a replacement kind',
    run: async ({ harness }) => {
      checkFlags(harness.target.capabilities, ['blueGreen', 'canary']);
      const { replacement } = harness.target.capabilities;
      check(
        replacement === undefined || replacement === 'side-by-side' || replacement === 'in-place',
        `capabilities.replacement: expected side-by-side or in-place, got ${String(replacement)}`,
      );
    },
  },
  'start-returns-running-instance-with-endpoint': {
    title: 'start returns a running instance of the spec, with an endpoint',
    run: async (context) => {
      const spec = specFor(context.harness, context.unique);
      const instance = await startFor(context, spec);
      check(
        typeof instance.id === 'string' && instance.id !== '',
        `instance id: expected a non-empty string, got ${instance.id}`,
      );
      same(
        {
          project: instance.project,
          stage: instance.stage,
          deployId: instance.deployId,
          release: instance.release,
        },
        { project: spec.project, stage: spec.stage, deployId: spec.deployId, release: spec.release },
        'instance of the spec',
      );
      same(instance.state, 'running', 'state of a started instance');
      const endpoint = defined(instance.endpoint, 'endpoint of a started instance');
      check(endpoint.host !== '', 'endpoint host is empty');
      check(
        Number.isInteger(endpoint.port) && endpoint.port > 0 && endpoint.port < 65_536,
        `endpoint port ${endpoint.port} is not a port`,
      );
    },
  },
  'start-is-idempotent-per-deploy': {
    title: 'a second start with the same deployId returns the first instance',
    run: async (context) => {
      const spec = specFor(context.harness, context.unique);
      const first = await startFor(context, spec);
      const second = await startFor(context, spec);
      same(second.id, first.id, 'instance id of the second start');
      const listed = await context.harness.target.list({ project: spec.project, stage: spec.stage });
      same(
        listed.map((instance) => instance.id),
        [first.id],
        'instances of the stage after two starts of one deploy',
      );
    },
  },
  'good-release-becomes-healthy': {
    title: 'checkHealth reports healthy for the good release',
    run: async (context) => {
      const instance = await startFor(context, specFor(context.harness, context.unique));
      const reports = await settle(
        context.harness,
        instance,
        (status) => status === 'healthy' || status === 'exited',
      );
      same(reports.at(-1)?.status, 'healthy', `health of the good release (seen: ${statuses(reports)})`);
    },
  },
  'unhealthy-release-reports-unhealthy': {
    title: 'checkHealth reports unhealthy for a release that fails its check',
    run: async (context) => {
      const { harness } = context;
      const instance = await startFor(
        context,
        specFor(harness, context.unique, { release: harness.releases.unhealthy }),
      );
      const reports = await settle(harness, instance, (status) => status !== 'starting');
      same(
        reports.at(-1)?.status,
        'unhealthy',
        `health of the unhealthy release (seen: ${statuses(reports)})`,
      );
    },
  },
  'crashing-release-reports-exited': {
    title: 'checkHealth reports exited for a release that exits',
    run: async (context) => {
      const { harness } = context;
      const instance = await startFor(
        context,
        specFor(harness, context.unique, { release: harness.releases.crashing }),
      );
      const reports = await settle(
        harness,
        instance,
        (status) => status === 'exited' || status === 'healthy',
      );
      same(reports.at(-1)?.status, 'exited', `health of the crashing release (seen: ${statuses(reports)})`);
    },
  },
  'list-filters-by-project-and-stage': {
    title: 'list returns the instances of a project, or of one stage',
    run: async (context) => {
      const { harness, unique } = context;
      const projectA = `conformance-${unique}-a`;
      const projectB = `conformance-${unique}-b`;
      const aDev = await startFor(
        context,
        specFor(harness, unique, { project: projectA, stage: 'dev', deploy: '1' }),
      );
      const aRel = await startFor(
        context,
        specFor(harness, unique, { project: projectA, stage: 'rel', deploy: '2' }),
      );
      const bDev = await startFor(
        context,
        specFor(harness, unique, { project: projectB, stage: 'dev', deploy: '3' }),
      );
      const ids = (instances: readonly Instance[]) => instances.map((instance) => instance.id).sort();
      same(
        ids(await harness.target.list({ project: projectA })),
        [aDev.id, aRel.id].sort(),
        `list of ${projectA}`,
      );
      same(
        ids(await harness.target.list({ project: projectA, stage: 'dev' })),
        [aDev.id],
        `list of ${projectA}/dev`,
      );
      const all = ids(await harness.target.list({}));
      for (const instance of [aDev, aRel, bDev]) {
        check(all.includes(instance.id), `list without filter lacks ${instance.project}/${instance.stage}`);
      }
    },
  },
  'retire-removes-instance': {
    title: 'retire takes the instance out of the running ones in list',
    run: async (context) => {
      const spec = specFor(context.harness, context.unique);
      const instance = await startFor(context, spec);
      await context.harness.target.retire({ instance });
      const listed = await context.harness.target.list({ project: spec.project });
      same(
        runningOf(listed, spec.deployId).map((item) => item.id),
        [],
        `running instances of ${spec.deployId} after retire`,
      );
    },
  },
  'retire-is-idempotent': {
    title: 'retiring an instance that is gone already is fine',
    run: async (context) => {
      const instance = await startFor(context, specFor(context.harness, context.unique));
      await context.harness.target.retire({ instance });
      await context.harness.target.retire({ instance });
    },
  },
  'revert-restores-previous': {
    title: 'revert of a candidate leaves the release before it running, and the candidate not',
    run: async (context) => {
      const { harness, unique } = context;
      const { target } = harness;
      const previous = specFor(harness, unique, { deploy: 'previous' });
      let first = await startFor(context, previous);
      await settle(harness, first, (status) => status === 'healthy' || status === 'exited');
      // A release counts as deployed once promoted, as the runner does after the approval.
      if (first.awaitingPromotion && target.promote) first = await target.promote({ instance: first });
      // What the runner does first on a target that cannot run both (recreate), the target itself
      // on an in-place one.
      const sideBySide = target.capabilities.replacement !== 'in-place';
      if (sideBySide && !target.capabilities.blueGreen) await target.retire({ instance: first });
      const candidate = await startFor(context, specFor(harness, unique, { deploy: 'candidate' }));
      await target.revert({ instance: candidate });
      await target.revert({ instance: candidate });
      const listed = await target.list({ project: previous.project, stage: previous.stage });
      same(
        runningOf(listed, candidate.deployId, candidate).length,
        0,
        'running instances of the reverted candidate',
      );
      if (sideBySide && !target.capabilities.blueGreen) return;
      const restored = runningOf(listed, first.deployId, first);
      same(restored.length, 1, `running instances of ${first.deployId} after the revert`);
      same(restored[0]?.release, previous.release, 'release running after the revert');
    },
  },
  'promote-after-approval': {
    title: 'a candidate awaiting promotion passes the gate, and promote() rolls it out',
    gate: { claim: 'awaitsPromotion', when: true, claimed: (harness) => harness.awaitsPromotion === true },
    run: async (context) => {
      const { harness } = context;
      const promote = defined(harness.target.promote, 'promote').bind(harness.target);
      const candidate = await startFor(context, specFor(harness, context.unique));
      same(candidate.awaitingPromotion, true, 'awaitingPromotion of a started candidate');
      // The runner's gate comes before the approval: the waiting candidate must be able to pass it.
      const reports = await settle(
        harness,
        candidate,
        (status) => status === 'healthy' || status === 'exited',
      );
      same(reports.at(-1)?.status, 'healthy', `health of the waiting candidate (seen: ${statuses(reports)})`);
      const promoted = await promote({ instance: candidate });
      same(
        { id: promoted.id, deployId: promoted.deployId, release: promoted.release, state: promoted.state },
        { id: candidate.id, deployId: candidate.deployId, release: candidate.release, state: 'running' },
        'the promoted instance',
      );
      check(promoted.awaitingPromotion !== true, 'the promoted instance still awaits its promotion');
      const after = await settle(harness, promoted, (status) => status === 'healthy' || status === 'exited');
      same(after.at(-1)?.status, 'healthy', `health after the promotion (seen: ${statuses(after)})`);
      const listed = await harness.target.list({ project: candidate.project, stage: candidate.stage });
      same(
        runningOf(listed, candidate.deployId, candidate).map((item) => item.awaitingPromotion === true),
        [false],
        'the promoted release in list',
      );
    },
  },
  'blue-green-runs-two-releases-side-by-side': {
    title: 'two deploys of one stage run side by side at distinct endpoints',
    gate: {
      claim: 'capabilities.blueGreen',
      when: true,
      claimed: (harness) => harness.target.capabilities.blueGreen,
    },
    run: async (context) => {
      const { harness, unique } = context;
      const blue = await startFor(context, specFor(harness, unique, { deploy: 'blue' }));
      const green = await startFor(context, specFor(harness, unique, { deploy: 'green' }));
      check(blue.id !== green.id, 'both deploys got the same instance');
      const listed = await harness.target.list({ project: blue.project, stage: blue.stage });
      same(
        listed.map((instance) => instance.id).sort(),
        [blue.id, green.id].sort(),
        'instances of the stage while blue and green run',
      );
      const endpoints = [blue.endpoint, green.endpoint].map(
        (endpoint) => `${endpoint?.host}:${endpoint?.port}`,
      );
      check(endpoints[0] !== endpoints[1], `blue and green share the endpoint ${endpoints[0]}`);
      for (const instance of listed) same(instance.state, 'running', `state of ${instance.deployId}`);
    },
  },
  'endpoint-stable-across-restart': {
    title: 'an instance the backend restarts keeps its endpoint, and watchInstances reports it',
    gate: {
      claim: 'watchInstances()',
      when: true,
      claimed: (harness) => typeof harness.target.watchInstances === 'function',
    },
    run: async (context) => {
      const { harness } = context;
      const watch = defined(harness.target.watchInstances, 'watchInstances').bind(harness.target);
      const restart = defined(harness.restart, 'harness.restart (a target with watchInstances needs it)');
      const spec = specFor(harness, context.unique);
      const instance = await startFor(context, spec);
      await settle(harness, instance, (status) => status === 'healthy' || status === 'exited');
      const listedBefore = (await harness.target.list({ project: spec.project, stage: spec.stage })).find(
        (item) => item.id === instance.id,
      );
      const before = defined(listedBefore?.endpoint, 'endpoint of the listed instance before the restart');
      const changes: InstanceChange[] = [];
      const watching = new AbortController();
      context.defer(() => watching.abort());
      await watch({ signal: watching.signal, onChange: (change) => changes.push(change) });
      await restart(instance);
      const reported = (change: InstanceChange) =>
        change.id === instance.id &&
        change.project === spec.project &&
        change.stage === spec.stage &&
        change.state === 'running';
      const timing = { intervalMs: 50, timeoutMs: harness.settleTimeoutMs ?? 30_000 };
      await pollUntil(
        async () => changes.some(reported),
        (seen) => seen,
        timing,
      );
      check(
        changes.some(reported),
        `watchInstances reported no running ${instance.id} after its restart (reported: ${JSON.stringify(changes)})`,
      );
      const listed = await pollUntil(
        async () =>
          (await harness.target.list({ project: spec.project, stage: spec.stage })).find(
            (item) => item.id === instance.id,
          ),
        (item) => item?.state === 'running',
        timing,
      );
      const after = listed.at(-1);
      same(after?.state, 'running', 'state of the instance after its restart');
      same(after?.endpoint, before, 'endpoint of the instance after its restart');
    },
  },
  'pull-fetches-release': {
    title: 'pull fetches a release that start then runs',
    gate: { claim: 'pull()', when: true, claimed: (harness) => typeof harness.target.pull === 'function' },
    run: async (context) => {
      const pull = defined(context.harness.target.pull, 'pull').bind(context.harness.target);
      const spec = specFor(context.harness, context.unique);
      await pull({ spec, onLog: () => {} });
      same((await startFor(context, spec)).state, 'running', 'state after pull and start');
    },
  },
  'logs-returns-at-most-tail-lines': {
    title: 'logs returns at most tail lines of an instance',
    gate: { claim: 'logs()', when: true, claimed: (harness) => typeof harness.target.logs === 'function' },
    run: async (context) => {
      const logs = defined(context.harness.target.logs, 'logs').bind(context.harness.target);
      const instance = await startFor(context, specFor(context.harness, context.unique));
      const lines = await logs({ instance, tail: 2 });
      check(
        Array.isArray(lines) && lines.every((line) => typeof line === 'string'),
        'logs: expected an array of strings',
      );
      check(lines.length <= 2, `logs with tail 2 returned ${lines.length} lines`);
    },
  },
  'aborted-signal-aborts': {
    title: 'an aborted signal makes calls throw ABORTED and start nothing',
    run: async (context) => {
      const { harness, unique } = context;
      const spec = specFor(harness, unique);
      const signal = abortedSignal();
      await expectCoreError(harness.target.start({ spec, signal }), 'ABORTED', 'start');
      await expectCoreError(harness.target.list({ project: spec.project, signal }), 'ABORTED', 'list');
      const listed = await harness.target.list({ project: spec.project });
      same(listed.length, 0, 'instances after an aborted start');
    },
  },
  'dispose-is-idempotent': disposeIsIdempotentCase((harness) => harness.target),
});

export const deployTargetSuite: ConformanceSuite<DeployTargetHarness, DeployTargetCaseId> = {
  contract: 'DeployTarget',
  cases: deployTargetCases,
  subject: (harness) => harness.target,
};

/** Runs one DeployTarget case without vitest; failures come back as results. */
export function runDeployTargetCase(
  id: DeployTargetCaseId,
  create: () => DeployTargetHarness | Promise<DeployTargetHarness>,
): Promise<CaseResult<DeployTargetCaseId>> {
  return runCase(deployTargetSuite, id, create);
}
