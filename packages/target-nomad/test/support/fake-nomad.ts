// A loopback Nomad written from the API samples in ../fixtures: jobs with versions, evaluations,
// deployments that progress on a timer (healthy, unhealthy, crashing, blocked, stuck; canaries and
// their promotion; auto-revert), blocking queries, ACL tokens, plain-text errors and injected faults.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { fixture } from './fixtures.ts';

type Json = Record<string, unknown>;

/** How allocations of a release behave, decided by a key found in one of the job's task images. */
export type FakeBehaviour = 'healthy' | 'unhealthy' | 'crashing' | 'blocked' | 'stuck';

export interface FakeJobSeed {
  readonly id: string;
  readonly image: string;
  readonly namespace?: string;
  readonly group?: string;
  readonly task?: string;
  /** A second task with an image in the same group (a sidecar). */
  readonly sidecarImage?: string;
  /** A second task group `worker`. */
  readonly extraGroup?: boolean;
  readonly count?: number;
  readonly canary?: number;
  readonly autoRevert?: boolean;
  readonly autoPromote?: boolean;
  /** Without an update block the group gets no deployments. */
  readonly deployments?: boolean;
  readonly meta?: Readonly<Record<string, string>>;
  /** Meta of the first task. */
  readonly taskMeta?: Readonly<Record<string, string>>;
  /** Whether version 0 counts as stable (a deployment of it succeeded); true by default. */
  readonly stable?: boolean;
}

export interface FakeNomadOptions {
  /** Milliseconds between two steps of a rollout. */
  readonly stepMs?: number;
  /** ACL: token secret -> policy. Without it ACLs are off. */
  readonly tokens?: Readonly<Record<string, 'write' | 'read'>>;
  /** A job id nobody seeded is created from this seed when first touched. */
  readonly jobTemplate?: (id: string, namespace: string) => FakeJobSeed | undefined;
  /** Nomad before 1.6: job stubs without `Meta`. */
  readonly metaInStubs?: boolean;
  /** Serves HTTPS with this key and certificate; with `ca`, requires client certificates signed by it. */
  readonly tls?: { readonly key: string; readonly cert: string; readonly ca?: string };
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

export interface Fault {
  readonly method?: string;
  readonly path: RegExp;
  /** How many matching requests fail; 1 by default. */
  readonly times?: number;
  readonly status?: number;
  readonly body?: string;
  /** Closes the connection without an answer. */
  readonly drop?: boolean;
  /** Sends the head of an answer and the start of its body, then closes the connection. */
  readonly cut?: boolean;
}

interface Task extends Json {
  Name: string;
  Config: Json & { image?: string };
  Meta: Record<string, string> | null;
}
interface Group extends Json {
  Name: string;
  Count: number;
  Tasks: Task[];
  Update: (Json & { Canary: number; AutoRevert: boolean; AutoPromote: boolean; MaxParallel: number }) | null;
}
interface Job extends Json {
  ID: string;
  Namespace: string;
  Version: number;
  Stable: boolean;
  Stop: boolean;
  Status: string;
  JobModifyIndex: number;
  ModifyIndex: number;
  CreateIndex: number;
  Meta: Record<string, string> | null;
  TaskGroups: Group[];
}
interface GroupState extends Json {
  AutoRevert: boolean;
  AutoPromote: boolean;
  Promoted: boolean;
  DesiredCanaries: number;
  DesiredTotal: number;
  PlacedCanaries: string[];
  PlacedAllocs: number;
  HealthyAllocs: number;
  UnhealthyAllocs: number;
}
interface Deployment extends Json {
  ID: string;
  JobID: string;
  Namespace: string;
  JobVersion: number;
  Status: string;
  StatusDescription: string;
  TaskGroups: Record<string, GroupState>;
  CreateIndex: number;
  ModifyIndex: number;
}
interface Evaluation extends Json {
  ID: string;
  JobID: string;
  Namespace: string;
  Status: string;
  DeploymentID: string;
  BlockedEval: string;
  FailedTGAllocs: Record<string, Json> | null;
  ModifyIndex: number;
}
interface Allocation extends Json {
  ID: string;
  JobID: string;
  Namespace: string;
  JobVersion: number;
  TaskGroup: string;
  ClientStatus: string;
  DesiredStatus: string;
  DeploymentID: string;
  DeploymentStatus: { Healthy: boolean | null; Canary: boolean; ModifyIndex: number } | null;
  TaskStates: Record<string, Json>;
  ModifyIndex: number;
}
interface JobState {
  readonly versions: Job[];
}

class HttpFailure extends Error {
  readonly status: number;
  readonly text: string;

  constructor(status: number, text: string) {
    super(text);
    this.status = status;
    this.text = text;
  }
}

const serverFields = [
  'Version',
  'Stable',
  'Status',
  'StatusDescription',
  'CreateIndex',
  'ModifyIndex',
  'JobModifyIndex',
  'SubmitTime',
  'VaultToken',
  'ConsulToken',
  'NomadTokenID',
];

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Json)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

const specOf = (job: Job): string => {
  const copy: Json = { ...job };
  for (const field of serverFields) delete copy[field];
  return canonical(copy);
};

const clone = <T>(value: T): T => structuredClone(value);

function parseWait(text: string | undefined): number {
  const match = /^(\d+)(ms|s|m)?$/.exec(text ?? '');
  if (!match) return 300_000;
  const n = Number(match[1]);
  return match[2] === 'm' ? n * 60_000 : match[2] === 's' ? n * 1_000 : n;
}

export class FakeNomad {
  readonly requests: RecordedRequest[] = [];
  /** The `VaultToken` of the last register or revert that carried one. */
  lastVaultToken: string | undefined;
  private server: Server | undefined;
  private index = 100;
  private readonly jobs = new Map<string, JobState>();
  private readonly deployments = new Map<string, Deployment>();
  private readonly evaluations = new Map<string, Evaluation>();
  private readonly allocations: Allocation[] = [];
  private readonly behaviours = new Map<string, FakeBehaviour>();
  private readonly faults: Array<Fault & { left: number }> = [];
  private readonly interferences = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly stepMs: number;
  private closed = false;
  private readonly options: FakeNomadOptions;

  constructor(options: FakeNomadOptions = {}) {
    this.options = options;
    this.stepMs = options.stepMs ?? 5;
  }

  /** Listens on 127.0.0.1 at a free port. */
  async start(): Promise<this> {
    const handler = (request: IncomingMessage, response: ServerResponse) =>
      void this.handle(request, response);
    const tls = this.options.tls;
    this.server = tls
      ? createHttpsServer(
          {
            key: tls.key,
            cert: tls.cert,
            ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
          },
          handler,
        )
      : createServer(handler);
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error('the fake Nomad is not listening');
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const wake of [...this.waiters]) wake();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Releases whose image contains `key` (a digest, say) behave like this from now on. */
  behave(key: string, behaviour: FakeBehaviour): void {
    this.behaviours.set(key, behaviour);
  }

  /** The next `times` matching requests fail with this status and plain-text body, or drop, or cut. */
  fail(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  /** Another client registers the job right before each of the next `times` registrations. */
  interfere(jobId: string, times = 1, namespace = 'default'): void {
    this.interferences.set(`${namespace}/${jobId}`, times);
  }

  /** Registers version 0 of a job, stable, with no deployment (its latest deployment reads `null`). */
  seed(seed: FakeJobSeed): Job {
    const namespace = seed.namespace ?? 'default';
    const base = fixture<{ Versions: Job[] }>('job-versions.json').Versions[0] as Job;
    const template = base.TaskGroups[0] as Group;
    const baseTask = template.Tasks[0] as Task;
    const task = (name: string, image: string): Task => ({
      ...clone(baseTask),
      Name: name,
      Config: { image, ports: ['http'] },
      Meta: null,
    });
    const update = (canary: number) =>
      seed.deployments === false
        ? null
        : {
            ...(template.Update as Json),
            Canary: canary,
            AutoRevert: seed.autoRevert ?? false,
            AutoPromote: seed.autoPromote ?? false,
            MaxParallel: 1,
          };
    const group = (name: string, tasks: Task[], canary: number): Group => ({
      ...clone(template),
      Name: name,
      Count: seed.count ?? 2,
      Tasks: tasks,
      Update: update(canary) as Group['Update'],
    });
    const tasks = [task(seed.task ?? 'app', seed.image)];
    if (seed.taskMeta && tasks[0]) tasks[0].Meta = { ...seed.taskMeta };
    if (seed.sidecarImage) tasks.push(task('proxy', seed.sidecarImage));
    const groups = [group(seed.group ?? 'web', tasks, seed.canary ?? 0)];
    if (seed.extraGroup) groups.push(group('worker', [task('worker', 'registry.test/team/worker:1')], 0));
    const index = this.bump();
    const job: Job = {
      ...base,
      ID: seed.id,
      Name: seed.id,
      Namespace: namespace,
      Version: 0,
      Stable: seed.stable ?? true,
      Stop: false,
      Status: 'running',
      CreateIndex: index,
      ModifyIndex: index,
      JobModifyIndex: index,
      SubmitTime: Date.now() * 1_000_000,
      Meta: seed.meta ? { ...seed.meta } : null,
      TaskGroups: groups,
    };
    this.jobs.set(`${namespace}/${seed.id}`, { versions: [job] });
    for (const g of groups) {
      for (let i = 0; i < g.Count; i += 1) this.placeAllocation(job, g.Name, '', false, 'running', true);
    }
    return clone(job);
  }

  /** The job's current version as Nomad stores it. */
  job(id: string, namespace = 'default'): Job | undefined {
    const state = this.jobs.get(`${namespace}/${id}`);
    return state ? clone(state.versions.at(-1) as Job) : undefined;
  }

  versions(id: string, namespace = 'default'): Job[] {
    return clone(this.jobs.get(`${namespace}/${id}`)?.versions ?? []);
  }

  deploymentsOf(id: string, namespace = 'default'): Deployment[] {
    return clone([...this.deployments.values()].filter((d) => d.JobID === id && d.Namespace === namespace));
  }

  /** Requests to one path (without the query), oldest first. */
  requestsTo(method: string, path: RegExp): RecordedRequest[] {
    return this.requests.filter((request) => request.method === method && path.test(request.path));
  }

  // --- simulation ---

  private bump(): number {
    this.index += 1;
    for (const wake of [...this.waiters]) wake();
    return this.index;
  }

  private later(action: () => void, steps = 1): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.closed) action();
    }, this.stepMs * steps);
    this.timers.add(timer);
  }

  private behaviourOf(job: Job): FakeBehaviour {
    for (const group of job.TaskGroups) {
      for (const task of group.Tasks) {
        for (const [key, behaviour] of this.behaviours) {
          if (String(task.Config.image ?? '').includes(key)) return behaviour;
        }
      }
    }
    return 'healthy';
  }

  private state(namespace: string, id: string): JobState | undefined {
    const key = `${namespace}/${id}`;
    let state = this.jobs.get(key);
    if (!state) {
      const seed = this.options.jobTemplate?.(id, namespace);
      if (seed) {
        this.seed({ ...seed, id, namespace });
        state = this.jobs.get(key);
      }
    }
    return state;
  }

  private current(state: JobState): Job {
    return state.versions.at(-1) as Job;
  }

  private placeAllocation(
    job: Job,
    group: string,
    deploymentId: string,
    canary: boolean,
    clientStatus = 'pending',
    healthy: boolean | null = null,
  ): Allocation {
    const sample = fixture<Json[]>('deployment-allocations.json')[0] as Json;
    const task = job.TaskGroups.find((g) => g.Name === group)?.Tasks[0]?.Name ?? 'app';
    const sampleState = Object.values(sample.TaskStates as Json)[0] as Json;
    const index = this.bump();
    const allocation: Allocation = {
      ...sample,
      ID: randomUUID(),
      EvalID: randomUUID(),
      Name: `${job.ID}.${group}[${this.allocations.filter((a) => a.JobID === job.ID).length}]`,
      Namespace: job.Namespace,
      JobID: job.ID,
      JobVersion: job.Version,
      TaskGroup: group,
      DesiredStatus: 'run',
      ClientStatus: clientStatus,
      DeploymentID: deploymentId,
      DeploymentStatus: deploymentId ? { Healthy: healthy, Canary: canary, ModifyIndex: index } : null,
      TaskStates: { [task]: { ...sampleState, State: clientStatus === 'running' ? 'running' : 'pending' } },
      CreateIndex: index,
      ModifyIndex: index,
    };
    this.allocations.push(allocation);
    return allocation;
  }

  private stopOlderAllocations(job: Job): void {
    for (const allocation of this.allocations) {
      if (
        allocation.JobID === job.ID &&
        allocation.Namespace === job.Namespace &&
        allocation.JobVersion < job.Version
      ) {
        allocation.DesiredStatus = 'stop';
        if (allocation.ClientStatus === 'running' || allocation.ClientStatus === 'pending')
          allocation.ClientStatus = 'complete';
      }
    }
  }

  private newEvaluation(job: Job, triggeredBy: string): Evaluation {
    const sample = fixture<Json>('evaluation.json');
    const index = this.bump();
    const evaluation: Evaluation = {
      ...sample,
      ID: randomUUID(),
      JobID: job.ID,
      Namespace: job.Namespace,
      Status: 'pending',
      StatusDescription: '',
      TriggeredBy: triggeredBy,
      DeploymentID: '',
      BlockedEval: '',
      FailedTGAllocs: null,
      RelatedEvals: null,
      PreviousEval: '',
      CreateIndex: index,
      ModifyIndex: index,
    };
    this.evaluations.set(evaluation.ID, evaluation);
    return evaluation;
  }

  /** A new current version: cancels the running deployment, evaluates, and rolls out the changed groups. */
  private rollout(state: JobState, job: Job, changedGroups: string[], triggeredBy: string): Evaluation {
    for (const deployment of this.deployments.values()) {
      if (
        deployment.JobID === job.ID &&
        deployment.Namespace === job.Namespace &&
        deployment.Status === 'running'
      ) {
        deployment.Status = 'cancelled';
        deployment.StatusDescription = 'Cancelled due to newer version of job';
        deployment.ModifyIndex = this.bump();
      }
    }
    const evaluation = this.newEvaluation(job, triggeredBy);
    this.later(() => this.evaluate(state, job, evaluation, changedGroups));
    return evaluation;
  }

  private evaluate(state: JobState, job: Job, evaluation: Evaluation, changedGroups: string[]): void {
    if (this.current(state).Version !== job.Version) {
      evaluation.Status = 'canceled';
      evaluation.ModifyIndex = this.bump();
      return;
    }
    const behaviour = this.behaviourOf(job);
    const groups = job.TaskGroups.filter((group) => changedGroups.includes(group.Name));
    const withUpdates = groups.filter((group) => group.Update !== null && group.Update.MaxParallel > 0);
    let deployment: Deployment | undefined;
    if (withUpdates.length > 0) {
      const sample = fixture<Json>('deployment.json');
      const index = this.bump();
      deployment = {
        ...sample,
        ID: randomUUID(),
        Namespace: job.Namespace,
        JobID: job.ID,
        JobVersion: job.Version,
        JobModifyIndex: job.JobModifyIndex,
        JobSpecModifyIndex: job.JobModifyIndex,
        JobCreateIndex: job.CreateIndex,
        Status: 'running',
        StatusDescription: 'Deployment is running',
        TaskGroups: Object.fromEntries(
          withUpdates.map((group) => [
            group.Name,
            {
              AutoRevert: group.Update?.AutoRevert ?? false,
              AutoPromote: group.Update?.AutoPromote ?? false,
              Promoted: false,
              DesiredCanaries: group.Update?.Canary ?? 0,
              DesiredTotal: group.Count,
              PlacedCanaries: [],
              PlacedAllocs: 0,
              HealthyAllocs: 0,
              UnhealthyAllocs: 0,
              ProgressDeadline: 600_000_000_000,
              RequireProgressBy: new Date(Date.now() + 600_000).toISOString(),
            },
          ]),
        ),
        CreateIndex: index,
        ModifyIndex: index,
      };
      this.deployments.set(deployment.ID, deployment);
      evaluation.DeploymentID = deployment.ID;
    }
    evaluation.Status = 'complete';
    if (behaviour === 'blocked') {
      const blocked = this.newEvaluation(job, 'queued-allocs');
      blocked.Status = 'blocked';
      blocked.StatusDescription = 'created to place remaining allocations';
      evaluation.BlockedEval = blocked.ID;
      evaluation.FailedTGAllocs = Object.fromEntries(
        groups.map((group) => [
          group.Name,
          {
            ...((fixture<Json>('evaluation.json').FailedTGAllocs as Json).cache as Json),
            NodesEvaluated: 1,
            NodesExhausted: 1,
            NodesAvailable: { dc1: 1 },
            DimensionExhausted: { memory: 1 },
            CoalescedFailures: group.Count - 1,
          },
        ]),
      );
      evaluation.ModifyIndex = this.bump();
      return;
    }
    evaluation.ModifyIndex = this.bump();
    if (!deployment) {
      this.placeWithoutDeployment(job, groups, behaviour);
      return;
    }
    const anyCanaries = withUpdates.some((group) => (group.Update?.Canary ?? 0) > 0);
    this.phase(state, job, deployment, withUpdates, behaviour, anyCanaries ? 'canary' : 'all');
  }

  private placeWithoutDeployment(job: Job, groups: Group[], behaviour: FakeBehaviour): void {
    const placed = groups.flatMap((group) =>
      Array.from({ length: group.Count }, () => this.placeAllocation(job, group.Name, '', false)),
    );
    if (behaviour === 'blocked' || behaviour === 'stuck') return;
    this.later(() => {
      for (const allocation of placed) this.run(allocation, behaviour === 'crashing');
      if (behaviour !== 'crashing') this.stopOlderAllocations(job);
      this.bump();
    });
  }

  private run(allocation: Allocation, crash: boolean): void {
    const [task, state] = Object.entries(allocation.TaskStates)[0] ?? ['app', {}];
    if (!crash) {
      allocation.ClientStatus = 'running';
      allocation.TaskStates = { [task]: { ...state, State: 'running', Failed: false } };
    } else {
      const events = (state.Events as Json[] | undefined) ?? [];
      const template = events[0] ?? {};
      allocation.ClientStatus = 'failed';
      allocation.TaskStates = {
        [task]: {
          ...state,
          State: 'dead',
          Failed: true,
          Events: [
            ...events,
            {
              ...template,
              Type: 'Terminated',
              ExitCode: 1,
              DisplayMessage: 'Exit Code: 1, Exit Message: "boom"',
            },
            {
              ...template,
              Type: 'Not Restarting',
              DisplayMessage: 'Exceeded allowed attempts 2 in interval 30m0s and mode is "fail"',
            },
          ],
        },
      };
    }
    allocation.ModifyIndex = this.index + 1;
  }

  private phase(
    state: JobState,
    job: Job,
    deployment: Deployment,
    groups: Group[],
    behaviour: FakeBehaviour,
    kind: 'canary' | 'all' | 'rest',
  ): void {
    const alive = () => deployment.Status === 'running';
    const placed: Allocation[] = [];
    for (const group of groups) {
      const groupState = deployment.TaskGroups[group.Name] as GroupState;
      const canaries = group.Update?.Canary ?? 0;
      const n =
        kind === 'canary' ? canaries : kind === 'rest' ? Math.max(0, group.Count - canaries) : group.Count;
      for (let i = 0; i < n; i += 1) {
        const allocation = this.placeAllocation(job, group.Name, deployment.ID, kind === 'canary');
        placed.push(allocation);
        groupState.PlacedAllocs += 1;
        if (kind === 'canary') groupState.PlacedCanaries.push(allocation.ID);
      }
    }
    deployment.ModifyIndex = this.bump();
    if (behaviour === 'stuck' && placed.length === 0) return;
    this.later(() => {
      if (!alive()) return;
      for (const allocation of placed) this.run(allocation, behaviour === 'crashing');
      deployment.ModifyIndex = this.bump();
      this.later(() => {
        if (!alive() || behaviour === 'stuck') return;
        for (const allocation of placed) {
          const healthy = behaviour === 'healthy';
          if (allocation.DeploymentStatus) allocation.DeploymentStatus.Healthy = healthy;
          const groupState = deployment.TaskGroups[allocation.TaskGroup] as GroupState;
          if (healthy) groupState.HealthyAllocs += 1;
          else groupState.UnhealthyAllocs += 1;
        }
        deployment.ModifyIndex = this.bump();
        if (behaviour !== 'healthy') {
          this.failDeployment(state, deployment, 'Failed due to unhealthy allocations');
        } else if (kind === 'canary') {
          if (groups.every((group) => group.Update?.AutoPromote || (group.Update?.Canary ?? 0) === 0)) {
            this.promoteDeployment(state, job, deployment, groups, behaviour);
          } else {
            deployment.StatusDescription = 'Deployment is running but requires manual promotion';
            deployment.ModifyIndex = this.bump();
          }
        } else {
          this.succeed(state, job, deployment);
        }
      });
    });
  }

  private promoteDeployment(
    state: JobState,
    job: Job,
    deployment: Deployment,
    groups: Group[],
    behaviour: FakeBehaviour,
  ): void {
    for (const groupState of Object.values(deployment.TaskGroups)) {
      if (groupState.DesiredCanaries > 0) groupState.Promoted = true;
    }
    deployment.StatusDescription = 'Deployment is running';
    deployment.ModifyIndex = this.bump();
    if (groups.every((group) => group.Count <= (group.Update?.Canary ?? 0))) {
      this.later(() => this.succeed(state, job, deployment));
    } else {
      this.later(() => this.phase(state, job, deployment, groups, behaviour, 'rest'));
    }
  }

  private succeed(state: JobState, job: Job, deployment: Deployment): void {
    if (deployment.Status !== 'running') return;
    deployment.Status = 'successful';
    deployment.StatusDescription = 'Deployment completed successfully';
    const stored = state.versions.find((version) => version.Version === job.Version);
    if (stored) stored.Stable = true;
    this.stopOlderAllocations(job);
    deployment.ModifyIndex = this.bump();
  }

  /** Fails a deployment; with auto-revert, the job goes back to its newest stable version. */
  private failDeployment(state: JobState, deployment: Deployment, description: string): number | null {
    deployment.Status = 'failed';
    deployment.StatusDescription = description;
    let reverted: number | null = null;
    const autoRevert = Object.values(deployment.TaskGroups).some((group) => group.AutoRevert);
    const current = this.current(state);
    if (autoRevert && current.Version === deployment.JobVersion) {
      const stable = [...state.versions].reverse().find((v) => v.Stable && v.Version < deployment.JobVersion);
      if (stable) {
        reverted = stable.Version;
        deployment.StatusDescription = `${description} - rolling back to job version ${stable.Version}`;
        this.newVersion(state, clone(stable), 'job-register');
      }
    }
    for (const allocation of this.allocations) {
      if (
        allocation.DeploymentID === deployment.ID &&
        allocation.ClientStatus === 'running' &&
        reverted !== null
      ) {
        allocation.DesiredStatus = 'stop';
        allocation.ClientStatus = 'complete';
      }
    }
    deployment.ModifyIndex = this.bump();
    return reverted;
  }

  /** Stores `spec` as the next version (server fields set) and rolls it out. */
  private newVersion(state: JobState, spec: Job, triggeredBy: string): { job: Job; evaluation: Evaluation } {
    const previous = this.current(state);
    const index = this.bump();
    const job: Job = {
      ...spec,
      Version: previous.Version + 1,
      Stable: false,
      Stop: spec.Stop ?? false,
      Status: 'running',
      CreateIndex: previous.CreateIndex,
      ModifyIndex: index,
      JobModifyIndex: index,
      SubmitTime: Date.now() * 1_000_000,
    };
    delete job.VaultToken;
    const metaChanged = canonical(previous.Meta ?? {}) !== canonical(job.Meta ?? {});
    const changedGroups = job.TaskGroups.filter((group) => {
      const before = previous.TaskGroups.find((candidate) => candidate.Name === group.Name);
      return metaChanged || !before || canonical(before) !== canonical(group);
    }).map((group) => group.Name);
    state.versions.push(job);
    const evaluation = this.rollout(state, job, changedGroups, triggeredBy);
    return { job, evaluation };
  }

  // --- HTTP ---

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://nomad.invalid');
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = raw === '' ? undefined : JSON.parse(raw);
    } catch {
      body = raw;
    }
    const method = request.method ?? 'GET';
    this.requests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...request.headers },
      body,
    });
    const fault = this.faults.find(
      (candidate) =>
        candidate.left > 0 && (candidate.method ?? method) === method && candidate.path.test(url.pathname),
    );
    if (fault) {
      fault.left -= 1;
      if (fault.drop) {
        request.socket.destroy();
        return;
      }
      if (fault.cut) {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
        response.write('{"ID":', () => request.socket.destroy());
        return;
      }
      this.text(response, fault.status ?? 500, fault.body ?? 'rpc error: No cluster leader');
      return;
    }
    try {
      this.authorize(request, method);
      const minIndex = Number(url.searchParams.get('index') ?? '0');
      if (method === 'GET' && minIndex > 0 && this.index <= minIndex) {
        await this.block(parseWait(url.searchParams.get('wait') ?? undefined), minIndex);
      }
      const answer = this.route(method, url, body);
      if (response.destroyed) return;
      response.writeHead(200, {
        'content-type': 'application/json',
        'x-nomad-index': String(this.index),
        'x-nomad-knownleader': 'true',
        'x-nomad-lastcontact': '0',
        ...(answer.nextToken ? { 'x-nomad-nexttoken': answer.nextToken } : {}),
      });
      response.end(JSON.stringify(answer.json));
    } catch (error) {
      if (error instanceof HttpFailure) this.text(response, error.status, error.text);
      else this.text(response, 500, String(error));
    }
  }

  private text(response: ServerResponse, status: number, text: string): void {
    if (response.headersSent || response.destroyed) return;
    response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(text);
  }

  private block(waitMs: number, minIndex: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const wake = () => {
        if (this.index > minIndex || this.closed) done();
      };
      const timer = setTimeout(done, Math.min(waitMs, 10_000));
      this.waiters.add(wake);
    });
  }

  private authorize(request: IncomingMessage, method: string): void {
    const tokens = this.options.tokens;
    if (!tokens) return;
    const header = request.headers['x-nomad-token'];
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const token = typeof header === 'string' ? header : bearer;
    if (token === undefined) throw new HttpFailure(403, 'Permission denied');
    const policy = tokens[token];
    if (!policy) throw new HttpFailure(403, 'ACL token not found');
    if (method !== 'GET' && policy !== 'write') throw new HttpFailure(403, 'Permission denied');
  }

  private route(method: string, url: URL, body: unknown): { json: unknown; nextToken?: string } {
    const namespace = url.searchParams.get('namespace') ?? 'default';
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    const [v1, kind, a, b, c] = parts;
    if (v1 !== 'v1') throw new HttpFailure(404, 'Invalid URL');
    const need = (expected: string) => {
      if (method !== expected) throw new HttpFailure(405, 'Invalid method');
    };
    const jobState = (id: string | undefined) => {
      const state = id === undefined ? undefined : this.state(namespace, id);
      if (!state) throw new HttpFailure(404, 'job not found');
      return state;
    };
    if (kind === 'jobs' && a === undefined) {
      if (method === 'POST') return { json: this.register(namespace, undefined, body) };
      return this.listJobs(namespace, url.searchParams);
    }
    if (kind === 'job' && a !== undefined) {
      if (b === undefined) {
        if (method === 'POST') return { json: this.register(namespace, a, body) };
        if (method === 'DELETE') return { json: this.deregister(jobState(a)) };
        need('GET');
        return { json: clone(this.current(jobState(a))) };
      }
      if (b === 'versions') {
        need('GET');
        return {
          json: {
            ...fixture<Json>('job-versions.json'),
            Versions: clone([...jobState(a).versions].reverse()),
            Diffs: null,
            Index: this.index,
          },
        };
      }
      if (b === 'deployment') {
        need('GET');
        jobState(a);
        return { json: clone(this.latestDeployment(namespace, a) ?? null) };
      }
      if (b === 'deployments') {
        need('GET');
        jobState(a);
        return { json: this.deploymentsOf(a, namespace).sort((x, y) => y.CreateIndex - x.CreateIndex) };
      }
      if (b === 'allocations') {
        need('GET');
        jobState(a);
        return { json: clone(this.allocations.filter((x) => x.JobID === a && x.Namespace === namespace)) };
      }
      if (b === 'revert') {
        need('POST');
        return { json: this.revert(jobState(a), body) };
      }
      if (b === 'plan') {
        need('POST');
        return { json: this.plan(jobState(a), body) };
      }
    }
    if (kind === 'evaluation' && a !== undefined && b === undefined) {
      need('GET');
      const evaluation = this.evaluations.get(a);
      if (!evaluation) throw new HttpFailure(404, 'eval not found');
      return { json: clone(evaluation) };
    }
    if (kind === 'deployment') {
      if (a === 'allocations' && b !== undefined) {
        need('GET');
        if (!this.deployments.has(b)) throw new HttpFailure(404, 'deployment not found');
        return { json: clone(this.allocations.filter((x) => x.DeploymentID === b)) };
      }
      if ((a === 'promote' || a === 'fail') && b !== undefined) {
        need('POST');
        const deployment = this.deployments.get(b);
        if (!deployment) throw new HttpFailure(404, 'deployment not found');
        return { json: a === 'promote' ? this.promote(deployment) : this.failByApi(deployment) };
      }
      if (a !== undefined && b === undefined) {
        need('GET');
        const deployment = this.deployments.get(a);
        if (!deployment) throw new HttpFailure(404, 'deployment not found');
        return { json: clone(deployment) };
      }
    }
    throw new HttpFailure(404, `Invalid URL ${c ?? ''}`.trim());
  }

  private latestDeployment(namespace: string, id: string): Deployment | undefined {
    return this.deploymentsOf(id, namespace).sort((x, y) => y.CreateIndex - x.CreateIndex)[0];
  }

  private listJobs(namespace: string, params: URLSearchParams): { json: unknown; nextToken?: string } {
    const sample = fixture<Json[]>('jobs-list.json')[0] as Json;
    const withMeta = params.get('meta') === 'true' && this.options.metaInStubs !== false;
    const prefix = params.get('prefix') ?? '';
    const all = [...this.jobs.values()]
      .map((state) => this.current(state))
      .filter((job) => job.Namespace === namespace && job.ID.startsWith(prefix))
      .sort((x, y) => x.ID.localeCompare(y.ID));
    const from = params.get('next_token');
    const start = from ? all.findIndex((job) => job.ID >= from) : 0;
    const perPage = Number(params.get('per_page') ?? '0');
    const page = perPage > 0 ? all.slice(start, start + perPage) : all.slice(start);
    const next = perPage > 0 ? all[start + perPage] : undefined;
    const stubs = page.map((job) => {
      const stub: Json = {
        ...sample,
        ID: job.ID,
        Name: job.ID,
        Namespace: job.Namespace,
        Type: job.Type,
        Status: job.Status,
        Stop: job.Stop,
        Version: job.Version,
        CreateIndex: job.CreateIndex,
        ModifyIndex: job.ModifyIndex,
        JobModifyIndex: job.JobModifyIndex,
        JobSummary: { ...(sample.JobSummary as Json), JobID: job.ID, Namespace: job.Namespace },
      };
      if (withMeta) stub.Meta = clone(job.Meta);
      return stub;
    });
    return next ? { json: stubs, nextToken: next.ID } : { json: stubs };
  }

  private register(namespace: string, pathId: string | undefined, body: unknown): Json {
    const request = (body ?? {}) as { Job?: Job; EnforceIndex?: boolean; JobModifyIndex?: number };
    const submitted = request.Job;
    if (!submitted || typeof submitted.ID !== 'string') throw new HttpFailure(400, 'Job must be specified');
    if (pathId !== undefined && submitted.ID !== pathId)
      throw new HttpFailure(400, 'Job ID does not match name');
    if (typeof submitted.VaultToken === 'string' && submitted.VaultToken !== '')
      this.lastVaultToken = submitted.VaultToken;
    const key = `${namespace}/${submitted.ID}`;
    const state = this.state(namespace, submitted.ID);
    const interference = this.interferences.get(key) ?? 0;
    if (state && interference > 0) {
      this.interferences.set(key, interference - 1);
      const foreign = clone(this.current(state));
      foreign.Meta = { ...foreign.Meta, 'other-writer': String(interference) };
      this.newVersion(state, foreign, 'job-register');
    }
    const existing = state ? this.current(state) : undefined;
    if (request.EnforceIndex) {
      const expected = request.JobModifyIndex ?? 0;
      if (existing && expected === 0)
        throw new HttpFailure(500, 'Enforcing job modify index 0: job already exists');
      if (existing && expected !== existing.JobModifyIndex) {
        throw new HttpFailure(
          500,
          `Enforcing job modify index ${expected}: job exists with conflicting job modify index: ${existing.JobModifyIndex}`,
        );
      }
      if (!existing && expected !== 0)
        throw new HttpFailure(500, `Enforcing job modify index ${expected}: job does not exist`);
    }
    const sample = fixture<Json>('job-register-response.json');
    if (!state || !existing) {
      const index = this.bump();
      const job: Job = {
        ...clone(submitted),
        Namespace: namespace,
        Version: 0,
        Stable: false,
        Stop: false,
        Status: 'running',
        CreateIndex: index,
        ModifyIndex: index,
        JobModifyIndex: index,
      };
      delete job.VaultToken;
      const created: JobState = { versions: [job] };
      this.jobs.set(key, created);
      const evaluation = this.rollout(
        created,
        job,
        job.TaskGroups.map((group) => group.Name),
        'job-register',
      );
      return {
        ...sample,
        EvalID: evaluation.ID,
        EvalCreateIndex: evaluation.CreateIndex,
        JobModifyIndex: index,
      };
    }
    const spec = { ...clone(submitted), Namespace: namespace } as Job;
    if (specOf(spec) === specOf(existing)) {
      // An unchanged job makes no new version; Nomad still evaluates it.
      const evaluation = this.newEvaluation(existing, 'job-register');
      this.later(() => {
        evaluation.Status = 'complete';
        evaluation.ModifyIndex = this.bump();
      });
      return {
        ...sample,
        EvalID: evaluation.ID,
        EvalCreateIndex: evaluation.CreateIndex,
        JobModifyIndex: existing.JobModifyIndex,
      };
    }
    const { job, evaluation } = this.newVersion(state, spec, 'job-register');
    return {
      ...sample,
      EvalID: evaluation.ID,
      EvalCreateIndex: evaluation.CreateIndex,
      JobModifyIndex: job.JobModifyIndex,
      Warnings: '',
    };
  }

  private revert(state: JobState, body: unknown): Json {
    const request = (body ?? {}) as {
      JobVersion?: number;
      EnforcePriorVersion?: number;
      VaultToken?: string;
    };
    const current = this.current(state);
    if (typeof request.VaultToken === 'string' && request.VaultToken !== '')
      this.lastVaultToken = request.VaultToken;
    if (request.EnforcePriorVersion !== undefined && request.EnforcePriorVersion !== current.Version) {
      throw new HttpFailure(
        500,
        `current job has version ${current.Version}; enforcing version of ${request.EnforcePriorVersion}`,
      );
    }
    if (request.JobVersion === current.Version) throw new HttpFailure(500, `can't revert to current version`);
    const target = state.versions.find((version) => version.Version === request.JobVersion);
    if (!target) throw new HttpFailure(500, `job version not found`);
    const { job, evaluation } = this.newVersion(state, clone(target), 'job-register');
    return {
      ...fixture<Json>('job-revert-response.json'),
      EvalID: evaluation.ID,
      EvalCreateIndex: evaluation.CreateIndex,
      JobModifyIndex: job.JobModifyIndex,
    };
  }

  /** Stop a Job without `purge`: the job stays, marked stopped, and its allocations stop. */
  private deregister(state: JobState): Json {
    const job = this.current(state);
    const index = this.bump();
    job.Stop = true;
    job.Status = 'dead';
    job.ModifyIndex = index;
    job.JobModifyIndex = index;
    for (const allocation of this.allocations) {
      if (allocation.JobID !== job.ID || allocation.Namespace !== job.Namespace) continue;
      allocation.DesiredStatus = 'stop';
      if (allocation.ClientStatus === 'running' || allocation.ClientStatus === 'pending')
        allocation.ClientStatus = 'complete';
    }
    const evaluation = this.newEvaluation(job, 'job-deregister');
    return {
      ...fixture<Json>('job-deregister-response.json'),
      EvalID: evaluation.ID,
      EvalCreateIndex: evaluation.CreateIndex,
      JobModifyIndex: index,
    };
  }

  private jobStateOf(deployment: Deployment): JobState {
    return this.jobs.get(`${deployment.Namespace}/${deployment.JobID}`) as JobState;
  }

  private promote(deployment: Deployment): Json {
    if (deployment.Status !== 'running') throw new HttpFailure(500, `can't promote terminal deployment`);
    const waiting = Object.entries(deployment.TaskGroups).filter(
      ([, g]) => g.DesiredCanaries > 0 && !g.Promoted,
    );
    if (waiting.length === 0) throw new HttpFailure(500, 'no canaries to promote');
    for (const [name, group] of waiting) {
      if (group.HealthyAllocs < group.DesiredCanaries) {
        throw new HttpFailure(
          500,
          `rpc error: 1 error occurred:\n\t* Task group "${name}" has ${group.HealthyAllocs}/${group.DesiredCanaries} healthy allocations\n\n`,
        );
      }
    }
    const state = this.jobStateOf(deployment);
    const job = state.versions.find((version) => version.Version === deployment.JobVersion) as Job;
    const groups = job.TaskGroups.filter((group) => group.Name in deployment.TaskGroups);
    this.promoteDeployment(state, job, deployment, groups, this.behaviourOf(job));
    return { ...fixture<Json>('deployment-promote-response.json'), EvalID: randomUUID(), Index: this.index };
  }

  private failByApi(deployment: Deployment): Json {
    if (deployment.Status !== 'running') throw new HttpFailure(500, `can't fail terminal deployment`);
    const reverted = this.failDeployment(
      this.jobStateOf(deployment),
      deployment,
      'Deployment marked as failed',
    );
    return {
      ...fixture<Json>('deployment-fail-response.json'),
      EvalID: randomUUID(),
      RevertedJobVersion: reverted,
      Index: this.index,
    };
  }

  private plan(state: JobState, body: unknown): Json {
    const submitted = ((body ?? {}) as { Job?: Job }).Job;
    if (!submitted) throw new HttpFailure(400, 'Job must be specified');
    const current = this.current(state);
    const sample = fixture<Json>('job-plan-response.json');
    const fieldDiffs = (before: Json | null | undefined, after: Json | null | undefined) => {
      const keys = [...new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})])].sort();
      return keys.flatMap((key) => {
        const old = before?.[key];
        const next = after?.[key];
        if (canonical(old) === canonical(next)) return [];
        const type = old === undefined ? 'Added' : next === undefined ? 'Deleted' : 'Edited';
        return [
          {
            Type: type,
            Name: key,
            Old: old === undefined ? '' : String(old),
            New: next === undefined ? '' : String(next),
            Annotations: null,
          },
        ];
      });
    };
    const objectDiff = (name: string, before: Json | null | undefined, after: Json | null | undefined) => {
      const fields = fieldDiffs(before, after);
      return fields.length > 0 ? [{ Type: 'Edited', Name: name, Fields: fields, Objects: null }] : [];
    };
    const groups = submitted.TaskGroups.map((group) => {
      const before = current.TaskGroups.find((candidate) => candidate.Name === group.Name);
      const tasks = group.Tasks.map((task) => {
        const old = before?.Tasks.find((candidate) => candidate.Name === task.Name);
        const objects = [
          ...objectDiff('Config', old?.Config, task.Config),
          ...objectDiff('Meta', old?.Meta, task.Meta),
          ...objectDiff('Env', old?.Env as Json | undefined, task.Env as Json | undefined),
        ];
        return {
          Type: objects.length > 0 ? 'Edited' : 'None',
          Name: task.Name,
          Fields: null,
          Objects: objects,
          Annotations: objects.length > 0 ? ['forces create/destroy update'] : null,
        };
      });
      const changed = tasks.some((task) => task.Type !== 'None');
      return {
        Type: changed ? 'Edited' : 'None',
        Name: group.Name,
        Fields: null,
        Objects: null,
        Tasks: tasks,
        Updates: changed ? { 'create/destroy update': group.Count } : { ignore: group.Count },
      };
    });
    const jobObjects = objectDiff('Meta', current.Meta, submitted.Meta);
    const changed = jobObjects.length > 0 || groups.some((group) => group.Type !== 'None');
    const blocked = this.behaviourOf(submitted) === 'blocked';
    return {
      ...sample,
      Index: this.index,
      JobModifyIndex: current.JobModifyIndex,
      CreatedEvals: null,
      Warnings: '',
      Diff: {
        Type: changed ? 'Edited' : 'None',
        ID: submitted.ID,
        Fields: null,
        Objects: jobObjects,
        TaskGroups: groups,
      },
      FailedTGAllocs: blocked
        ? Object.fromEntries(
            submitted.TaskGroups.map((group) => [
              group.Name,
              { ...((sample.FailedTGAllocs as Json).cache as Json) },
            ]),
          )
        : null,
      Annotations: {
        DesiredTGUpdates: Object.fromEntries(
          groups.map((group) => [
            group.Name,
            {
              DestructiveUpdate:
                group.Type === 'None'
                  ? 0
                  : (submitted.TaskGroups.find((g) => g.Name === group.Name)?.Count ?? 0),
              InPlaceUpdate: 0,
              Stop: 0,
              Migrate: 0,
              Place: 0,
              Ignore: group.Type === 'None' ? 1 : 0,
              Canary: 0,
            },
          ]),
        ),
      },
    };
  }
}

/** Starts a fake Nomad on loopback. */
export async function startFakeNomad(options: FakeNomadOptions = {}): Promise<FakeNomad> {
  return new FakeNomad(options).start();
}
