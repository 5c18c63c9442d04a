import { CliError, type ServerApi } from './cli-api.ts';
import { type DeploySummary, followDeploy } from './cli-follow.ts';
import { historyText, stageText, statusText } from './cli-output.ts';
import { leftAlone, leftAloneText, updatesText } from './label-mode/labels-text.ts';

/** What a command sees: its arguments, the options, where to write, and the API of a running server. */
export interface CommandContext {
  readonly args: readonly string[];
  readonly options: {
    readonly json: boolean;
    readonly wait: boolean;
    readonly follow: boolean;
    readonly limit?: number;
    readonly config: string;
    readonly watch: boolean;
    readonly write?: string;
    readonly reference: boolean;
  };
  /** The running server (`--url`, `--token`); made when a command first asks. */
  api(): ServerApi;
  /** Progress for people: stderr, and nothing with `--json`. */
  progress(text: string): void;
  /** Output for people as it happens: stdout, and nothing with `--json`. */
  print(text: string): void;
}

/** What a command reports: the JSON answer (`--json`), the text for people, and the exit code. */
export interface CommandResult {
  readonly json: unknown;
  readonly text?: string;
  readonly code?: number;
}

export interface Command {
  /** One word, or two for a group (`notify test`). */
  readonly name: string;
  readonly args: string;
  readonly summary: string;
  readonly details?: string;
  readonly examples: readonly string[];
  /** Options beyond the global ones (`--url`, `--token`, `--json`). */
  readonly options?: readonly string[];
  /** How many positional arguments it takes: [least, most]. */
  readonly arity: readonly [number, number];
  /** Whether it talks to a running server (then `--url` and `--token` apply). */
  readonly remote: boolean;
  run(context: CommandContext): Promise<CommandResult>;
}

/**
 * Follows a queued deploy to its end (progress on stderr), unless `--no-wait`: the outcome is the
 * finished record, and the exit code 0 only when it succeeded.
 */
async function followQueued(context: CommandContext, queued: DeploySummary): Promise<CommandResult> {
  if (!context.options.wait)
    return {
      json: { deploy: queued },
      text: `deploy ${queued.id}: ${queued.release.tag} (${queued.release.digest}) ${queued.state}`,
    };
  const api = context.api();
  context.progress(
    `deploy ${queued.id}: ${queued.release.tag} (${queued.release.digest}) to ${queued.project}/${queued.stage}`,
  );
  const deploy = await followDeploy({
    api,
    deployId: queued.id,
    onState: (state, note) => context.progress(`  ${state}${note ? `: ${note}` : ''}`),
    onLog: (line) => context.progress(`    ${line.level === 'info' ? '' : `${line.level}: `}${line.line}`),
  });
  if (deploy.error) context.progress(`${deploy.error.code}: ${deploy.error.message}`);
  return {
    json: { deploy },
    text: `deploy ${deploy.id}: ${deploy.release.tag} (${deploy.release.digest}) ${deploy.state}`,
    code: deploy.state === 'succeeded' ? 0 : 1,
  };
}

const deployCommand = (
  name: 'deploy' | 'promote' | 'rollback',
  args: string,
  summary: string,
  examples: string[],
  body: (extra: string | undefined) => { tag?: string; digest?: string },
): Command => ({
  name,
  args,
  summary,
  details:
    'Follows the deploy to its end: each step and log line on stderr, the outcome on stdout; exit 0 only when it succeeded. --no-wait returns once it is queued.',
  examples,
  options: ['--no-wait'],
  arity: [2, name === 'rollback' ? 2 : 3],
  remote: true,
  async run(context) {
    const [project, stage, extra] = context.args as [string, string, string | undefined];
    const { call } = context.api();
    const params = { id: project, stage };
    const answer =
      name === 'deploy'
        ? await call.deployStage({ params, body: body(extra) })
        : name === 'promote'
          ? await call.promoteStage({ params, body: body(extra) })
          : await call.rollbackStage({ params });
    return followQueued(context, answer.deploy);
  },
});

const stageChange = (
  name: string,
  args: string,
  summary: string,
  examples: string[],
  arity: readonly [number, number],
  request: (api: ServerApi['call'], args: readonly string[]) => ReturnType<ServerApi['call']['pinStage']>,
): Command => ({
  name,
  args,
  summary,
  examples,
  arity,
  remote: true,
  async run(context) {
    const [project] = context.args as [string];
    const answer = await request(context.api().call, context.args);
    return { json: answer, text: stageText(answer, project) };
  },
});

/** The commands that talk to a running server. Adding one is adding an entry. */
export const remoteCommands: readonly Command[] = [
  {
    name: 'status',
    args: '[project]',
    summary: 'every stage at a glance: release, digest, last deploy, auto-deploy, what waits for a person',
    examples: ['docker-watcher status', 'docker-watcher status web-app --json'],
    arity: [0, 1],
    remote: true,
    async run(context) {
      const { call } = context.api();
      const [project] = context.args;
      const [projects, approvals, deploys] = await Promise.all([
        project
          ? call.getProject({ params: { id: project } }).then((p) => [p])
          : call.listProjects().then((a) => a.projects),
        call.listApprovals().then((a) => a.approvals),
        call.listDeploys({ query: { limit: 200, project } }).then((a) => a.deploys),
      ]);
      const mine = approvals.filter((a) => !project || a.project === project);
      return { json: { projects, approvals: mine }, text: statusText(projects, mine, deploys) };
    },
  },
  {
    name: 'plan',
    args: '[project] [stage]',
    summary: 'what each stage would do now, and why',
    examples: ['docker-watcher plan', 'docker-watcher plan web-app prod'],
    arity: [0, 2],
    remote: true,
    async run(context) {
      const [project, stage] = context.args;
      const answer = await context.api().call.getPlan({ query: { project, stage } });
      const text = answer.plan
        .map((p) => `${p.project}/${p.stage}: ${p.decision.action} (${p.decision.reason})`)
        .join('\n');
      if (project) return { json: answer, text };
      // The whole plan also names the labelled containers that are left alone, and why, and how
      // an update replaces each watched one.
      const view = await context.api().call.listLabelled();
      const labels = leftAlone(view);
      return {
        json: { ...answer, leftAlone: labels },
        text: [text, updatesText(view), leftAloneText(labels)].filter(Boolean).join('\n'),
      };
    },
  },
  {
    name: 'tags',
    args: '<project> <stage>',
    summary: "what the stage's policy selects from its repository",
    examples: ['docker-watcher tags web-app dev'],
    arity: [2, 2],
    remote: true,
    async run(context) {
      const [project, stage] = context.args as [string, string];
      const t = await context.api().call.getStageTags({ params: { id: project, stage } });
      return {
        json: t,
        text: `${t.allowed.length} of ${t.tags.length} tags allowed: ${t.allowed.join(', ')}\nselected: ${t.selected ?? 'none'} (${t.reason})`,
      };
    },
  },
  {
    name: 'history',
    args: '[project] [stage]',
    summary: 'past deploys, newest first (--limit, default 20)',
    examples: ['docker-watcher history', 'docker-watcher history web-app prod --limit 5'],
    options: ['--limit <n>'],
    arity: [0, 2],
    remote: true,
    async run(context) {
      const [project, stage] = context.args;
      const answer = await context
        .api()
        .call.listDeploys({ query: { project, stage, limit: context.options.limit ?? 20 } });
      return { json: answer, text: historyText(answer.deploys) };
    },
  },
  {
    name: 'logs',
    args: '<deploy>',
    summary: "a deploy's steps and log lines (--follow: until it ends)",
    examples: ['docker-watcher logs 3f2a…', 'docker-watcher logs 3f2a… --follow'],
    options: ['--follow, -f'],
    arity: [1, 1],
    remote: true,
    async run(context) {
      const api = context.api();
      const [id] = context.args as [string];
      const lines: Array<{ seq: number; level: string; line: string }> = [];
      const steps: Array<{ state: string; note?: string }> = [];
      const show = context.print;
      await api.call.getDeploy({ params: { id } });
      const deploy = await followDeploy({
        api,
        deployId: id,
        untilCaughtUp: !context.options.follow,
        onState: (state, note) => {
          steps.push({ state, ...(note ? { note } : {}) });
          show(`${state}${note ? `: ${note}` : ''}`);
        },
        onLog: (line) => {
          lines.push(line);
          show(`  ${line.level === 'info' ? '' : `${line.level}: `}${line.line}`);
        },
      });
      return {
        json: { deploy, lines },
        ...(context.options.json ? {} : { text: `deploy ${deploy.id}: ${deploy.state}` }),
      };
    },
  },
  deployCommand(
    'deploy',
    '<project> <stage> [tag]',
    "deploy a tag the stage's policy allows (default: its newest)",
    ['docker-watcher deploy web-app dev', 'docker-watcher deploy web-app rel v1.4.0 --no-wait'],
    (tag) => (tag ? { tag } : {}),
  ),
  deployCommand(
    'promote',
    '<project> <stage> [digest]',
    'deploy to a promote_from stage exactly what succeeded in its source',
    ['docker-watcher promote web-app prod'],
    (digest) => (digest ? { digest } : {}),
  ),
  deployCommand(
    'rollback',
    '<project> <stage>',
    'deploy the previous successful release again and pause auto-deploy',
    ['docker-watcher rollback web-app prod'],
    () => ({}),
  ),
  {
    name: 'approve',
    args: '<approval>',
    summary: 'confirm a release that waits for a person (ids in `status`), and follow its deploy',
    examples: ['docker-watcher approve 5c1e…', 'docker-watcher approve 5c1e… --no-wait --json'],
    options: ['--no-wait'],
    arity: [1, 1],
    remote: true,
    async run(context) {
      const answer = await context.api().call.approve({ params: { id: context.args[0]! } });
      return followQueued(context, answer.deploy);
    },
  },
  {
    name: 'reject',
    args: '<approval>',
    summary: 'refuse a release that waits for a person: it stays out of the stage',
    examples: ['docker-watcher reject 5c1e…'],
    arity: [1, 1],
    remote: true,
    async run(context) {
      const answer = await context.api().call.reject({ params: { id: context.args[0]! } });
      return { json: answer, text: `rejected ${context.args[0]}` };
    },
  },
  stageChange(
    'pin',
    '<project> <stage> <tag>',
    'hold the stage on a tag (its digest stays watched)',
    ['docker-watcher pin web-app prod v1.4.2'],
    [3, 3],
    (call, [id, stage, tag]) => call.pinStage({ params: { id: id!, stage: stage! }, body: { tag: tag! } }),
  ),
  stageChange(
    'unpin',
    '<project> <stage>',
    'let the stage follow its policy again',
    ['docker-watcher unpin web-app prod'],
    [2, 2],
    (call, [id, stage]) => call.unpinStage({ params: { id: id!, stage: stage! } }),
  ),
  stageChange(
    'auto-deploy',
    '<project> <stage> on|off',
    'turn automatic deploys of the stage on or off (on: it catches up at once)',
    ['docker-watcher auto-deploy web-app rel on', 'docker-watcher auto-deploy web-app prod off'],
    [3, 3],
    (call, [id, stage, state]) => {
      if (state !== 'on' && state !== 'off')
        throw new CliError('USAGE', `auto-deploy takes on or off, not ${state}`, 2);
      return call.setAutoDeploy({ params: { id: id!, stage: stage! }, body: { enabled: state === 'on' } });
    },
  ),
  {
    name: 'cancel',
    args: '<deploy>',
    summary: 'cancel a deploy: a queued one never starts, a running one is rolled back',
    examples: ['docker-watcher cancel 3f2a…'],
    arity: [1, 1],
    remote: true,
    async run(context) {
      const answer = await context.api().call.cancelDeploy({ params: { id: context.args[0]! } });
      return { json: answer, text: `deploy ${answer.deploy.id}: ${answer.deploy.state}` };
    },
  },
];
