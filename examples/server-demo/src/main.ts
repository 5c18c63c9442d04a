// The run command's demo: the reference server on a real local registry, Docker Engine, Caddy and
// SQLite, shown through real subdomain routing on loopback. Keeps serving until Ctrl-C, then removes
// everything it started; `--once` stops after the story (CI runs this).
import { randomBytes } from 'node:crypto';
import { ensureDashboardBuild } from './dashboard-build.ts';
import { demoProject, demoProjects, demoRepository } from './demo-config.ts';
import { runDemoScenario } from './demo-scenario.ts';
import { type Stack, type StartStackOptions, startStack } from './stack.ts';
import { serverCli } from './stack-server.ts';

const once = process.argv.includes('--once');
/** The one line that points the demo at a channel: its URL in DW_DEMO_NOTIFY, each event at once. */
const demoNotify: StartStackOptions['notify'] = {
  batch_window_seconds: 0,
  channels: [
    {
      url_env: 'DW_DEMO_NOTIFY',
      events: [
        'deploy:succeeded',
        'deploy:failed',
        'deploy:rolled-back',
        'deploy:awaiting-confirmation',
        'release:available',
      ],
    },
  ],
};
const say = (line: string) => process.stdout.write(`${line}\n`);
// scripts/start.sh records when the command started, before it installs anything.
const startedAt = Number(process.env.DW_DEMO_STARTED_AT) || Math.round(performance.timeOrigin);

// Ctrl-C may come at any point, even while the stack starts: stop, clean up, exit.
const stopRequested = new Promise<string>((resolve) => {
  process.once('SIGINT', () => resolve('SIGINT'));
  process.once('SIGTERM', () => resolve('SIGTERM'));
});
let starting: Promise<Stack> | undefined;
let stack: Stack | undefined;
// A dashboard login made up for this run (it lives as long as the demo's server).
const dashboardUser = {
  name: 'demo',
  password: randomBytes(9).toString('base64url'),
  scopes: ['admin'] as const,
};
const dashboardLine = (s: Stack) =>
  `Dashboard: ${s.server.url}/  user ${dashboardUser.name}, password ${dashboardUser.password} (made up for this run)`;

async function run(): Promise<void> {
  say('Docker Watcher demo: starting a Docker Engine (if none runs), a registry, Caddy and the server…');
  starting = startStack({
    projects: demoProjects,
    pollIntervalSeconds: 30,
    users: [dashboardUser],
    onStep: (line) => say(`  ${line}`),
    // DW_DEMO_NOTIFY=<service URL> (ntfy://ntfy.sh/<topic>, discord://…): the story's deploys there too.
    ...(process.env.DW_DEMO_NOTIFY ? { notify: demoNotify } : {}),
  });
  // The server serves the dashboard as soon as its build exists; it is made meanwhile when needed.
  const [started] = await Promise.all([starting, ensureDashboardBuild()]);
  stack = started;
  say(`\n${dashboardLine(stack)}: watch the story there, live.`);
  await runDemoScenario(stack, say, startedAt);
  if (!once) printWhatToTry(stack);
}

function printWhatToTry(s: Stack): void {
  const caddy = `http://127.0.0.1:${s.caddy.httpPort}`;
  const auth = `-H 'Authorization: Bearer ${s.adminToken}'`;
  const cli = `node --conditions=@docker-watcher/source ${serverCli}`;
  say(`
${dashboardLine(s)}

Open (Caddy routes each stage's host name; curl resolves *.localhost to loopback by itself):
  ${['dev', 'rel', 'prod'].map((stage) => `http://${s.hostOf(demoProject, stage)}:${s.caddy.httpPort}/`).join('\n  ')}
  or: curl -H 'Host: ${s.hostOf(demoProject, 'dev')}' ${caddy}/version

The API (the token is made up for this run and dies with it):
  curl ${auth} ${s.server.url}/api/projects/demo
  curl ${auth} ${s.server.url}/api/deploys?limit=5
  curl ${auth} -X POST -H 'content-type: application/json' -d '{}' ${s.server.url}/api/projects/demo/stages/dev/rollback

The CLI, against this server:
  export DOCKER_WATCHER_URL=${s.server.url} DOCKER_WATCHER_TOKEN=${s.adminToken}
  ${cli} plan
  ${cli} deploy demo dev dev-1

Push a release yourself, and watch dev take it:
  docker tag dw-testkit/app:v2 ${s.registry.host}/${demoRepository}:dev-3 && docker push ${s.registry.host}/${demoRepository}:dev-3

Config: ${s.configFile}   Server log: ${s.dir}/server-0.log   State: ${s.databaseFile}
Ctrl-C stops and removes everything.`);
}

let failed = false;
const outcome = await Promise.race([
  run().then(
    () => 'done' as const,
    (error: unknown) => {
      failed = true;
      process.stderr.write(`\nthe demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
      if (stack) process.stderr.write(`server log: ${stack.dir}/server-0.log (removed on exit)\n`);
      return 'failed' as const;
    },
  ),
  stopRequested,
]);
if (outcome === 'done' && !once) {
  // Nothing else keeps Node running while it waits: hold the process open until a signal.
  const keepAlive = setInterval(() => {}, 60_000);
  await stopRequested;
  clearInterval(keepAlive);
}
say('\nstopping…');
// A stack still starting is waited for, then removed like a started one.
await (stack ?? (await starting?.catch(() => undefined)))?.dispose();
say('done');
// A story cut short by Ctrl-C may still have a wait pending: it must not hold the process.
process.exit(failed ? 1 : 0);
