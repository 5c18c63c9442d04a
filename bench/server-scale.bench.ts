// The reference server as a user runs it (`docker-watcher serve` in its own process, SQLite store, the OCI
// registry adapter) watching 10, 100 and 1,000 repositories of a real local registry: resident memory when
// idle, poll cycle duration and registry requests per repository (seen by a counting proxy in front of the
// registry), and API latency under a bounded wrk load (GET /ping, GET /api/projects, GET /api/board), beside
// its floor: a bare Node HTTP server in its own process answering the same bytes as /api/projects, under
// the same load in the same run (what any Node server pays to send that answer on this machine now).
//
//   node --conditions=@docker-watcher/source bench/server-scale.bench.ts           prints a markdown report
//   node --conditions=@docker-watcher/source bench/server-scale.bench.ts --check   also exits 1 when the server
//                                                                                   idles at 80 MB RSS or more
//                                                                                   with 100 repositories, or
//                                                                                   /api/projects or /api/board
//                                                                                   answer p99 at 50 ms or more
//                                                                                   with 1,000
//   … --repos 10,100 --wrk-seconds 3                                                a quick look
//
// Each repository is one project with one stage (`v*`, auto-deploy) whose releases go to the server's
// in-memory target and proxy: the figures are the server's own cost of watching, not of running 1,000
// containers. Starts (and removes again) a Docker Engine when none answers, the testkit's registry, and
// installs Debian's wrk when it is missing. Node runs this file by type stripping: erasable TypeScript only.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { waitFor } from '@docker-watcher/example-server-demo';
import {
  buildFixtureImages,
  dockerClient,
  ensureDockerEngine,
  freePort,
  pushSyntheticTags,
  startRegistry,
} from '@docker-watcher/testkit';
import { type CountingProxy, type ProxiedRequest, startCountingProxy } from './_counting-proxy.ts';
import { pool } from './_pool.ts';
import { quantile } from './_quantile.ts';
import { bundleServer, serverSource } from './_server-build.ts';
import { ensureWrk, runWrk, type WrkResult } from './_wrk.ts';

const { values: args } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    repos: { type: 'string', default: '10,100,1000' },
    tags: { type: 'string', default: '3' },
    'poll-seconds': { type: 'string', default: '5' },
    'idle-cycles': { type: 'string', default: '4' },
    'wrk-seconds': { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    builds: { type: 'string', default: 'bundle,source' },
    // Extra Node options of the server process, e.g. the launcher's: `--max-semi-space-size=1 --max-opt=1`.
    'node-options': { type: 'string', default: '' },
  },
});
type Build = 'bundle' | 'source';
const builds = args.builds.split(',') as Build[];
const sizes = args.repos.split(',').map(Number);
const tagCount = Number(args.tags);
const pollSeconds = Number(args['poll-seconds']);
const idleCycles = Number(args['idle-cycles']);
const wrkSeconds = Number(args['wrk-seconds']);
const connections = Number(args.connections);
const rssTargetMb = 80;
/** p99 of `/api/projects` and `/api/board` under the wrk load at 1,000 repositories. */
const readsP99TargetMs = 50;
const tokenEnv = 'DW_BENCH_TOKEN';

const repositoryOf = (index: number) => `bench/scale-${String(index).padStart(4, '0')}`;
const tags = Array.from({ length: tagCount }, (_, index) => `v1.0.${index}`);

function configText(params: {
  size: number;
  registryUrl: string;
  registryHost: string;
  port: number;
  dir: string;
}) {
  const projects: Record<string, unknown> = {};
  for (let index = 0; index < params.size; index++) {
    projects[`scale-${String(index).padStart(4, '0')}`] = {
      registry: 'local',
      image: `${params.registryHost}/${repositoryOf(index)}`,
      port: 8080,
      stages: { dev: { tag_pattern: 'v*', auto_deploy: true } },
    };
  }
  // JSON is YAML: the server reads it as its config file.
  return JSON.stringify(
    {
      global: {
        domain: 'bench.test',
        store: `sqlite:${join(params.dir, 'docker-watcher.db')}`,
        poll_interval_seconds: pollSeconds,
        target: { type: 'memory' },
        proxy: { type: 'memory' },
        server: {
          listen: `127.0.0.1:${params.port}`,
          tokens: [{ name: 'bench', token_env: tokenEnv, scopes: ['read'] }],
        },
      },
      registries: { local: { type: 'oci', url: params.registryUrl } },
      projects,
    },
    null,
    2,
  );
}

/** Resident memory in MB: all of it (`VmRSS`), and the part that is not file-backed (`RssAnon`: heap, stacks). */
const rssMb = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? Number.NaN) / 1024;
  return { total: field('VmRSS'), anon: field('RssAnon') };
};

interface Cycle {
  readonly ms: number;
  readonly listings: number;
  readonly requests: number;
}

/** Registry requests grouped into poll cycles: a pause of over a second separates two cycles. */
function cyclesOf(requests: readonly ProxiedRequest[]): Cycle[] {
  const sorted = [...requests].sort((a, b) => a.startedAt - b.startedAt);
  const groups: ProxiedRequest[][] = [];
  let lastEnd = Number.NEGATIVE_INFINITY;
  for (const item of sorted) {
    if (item.startedAt - lastEnd > 1_000) groups.push([]);
    groups.at(-1)?.push(item);
    lastEnd = Math.max(lastEnd, item.endedAt);
  }
  return groups.map((group) => ({
    ms: Math.max(...group.map((r) => r.endedAt)) - Math.min(...group.map((r) => r.startedAt)),
    listings: group.filter((r) => r.path.includes('/tags/list')).length,
    requests: group.length,
  }));
}

interface SizeResult {
  readonly build: Build;
  readonly size: number;
  readonly startMs: number;
  readonly idleRss: number[];
  readonly idleAnon: number[];
  readonly rssAfterLoad: number;
  readonly cycles: Cycle[];
  readonly ping: WrkResult;
  readonly projects: WrkResult;
  readonly board: WrkResult;
  /** A bare `node:http` server answering `/api/projects`'s bytes. */
  readonly floor: WrkResult;
  readonly projectsBytes: number;
}

/** The floor: `node:http` answering the bytes of a file to every request, nothing else. */
const floorScript = `
const { createServer } = require('node:http');
const body = require('node:fs').readFileSync(process.argv[1]);
const server = createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  response.end(body);
});
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
`;

/** Runs wrk against the floor server answering `body`, in a process of its own. */
async function measureFloor(body: Uint8Array, dir: string): Promise<WrkResult> {
  const file = join(dir, 'floor-body.json');
  writeFileSync(file, body);
  const child = spawn(process.execPath, ['-e', floorScript, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      child.stdout?.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
      child.once('exit', (code) => reject(new Error(`the floor server exited (${code})`)));
    });
    return await runWrk({ url: `http://127.0.0.1:${port}/`, threads: 2, connections, seconds: wrkSeconds });
  } finally {
    child.kill('SIGKILL');
  }
}

/** `docker-watcher serve` in its own process: the bundle, or the sources through Node's type stripping. */
function startServerProcess(params: {
  build: Build;
  cli: string;
  configFile: string;
  env: Record<string, string>;
  logFile: string;
}) {
  const log = openSync(params.logFile, 'a');
  // On the command line, not in NODE_OPTIONS, which refuses most V8 options (the launcher's among them).
  const nodeOptions = args['node-options'].split(' ').filter(Boolean);
  const argv =
    params.build === 'bundle'
      ? [...nodeOptions, params.cli, 'serve', '--config', params.configFile]
      : [
          ...nodeOptions,
          '--conditions=@docker-watcher/source',
          serverSource,
          'serve',
          '--config',
          params.configFile,
        ];
  const child: ChildProcess = spawn(process.execPath, argv, {
    env: { ...process.env, ...params.env },
    stdio: ['ignore', log, log],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    pid: child.pid ?? Number.NaN,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(force);
      process.removeListener('exit', killOnExit);
    },
  };
}

async function measure(
  build: Build,
  cli: string,
  size: number,
  registryUrl: string,
  registryHost: string,
): Promise<SizeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-bench-scale-'));
  const proxy: CountingProxy = await startCountingProxy(registryUrl);
  let server: ReturnType<typeof startServerProcess> | undefined;
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const configFile = join(dir, 'docker-watcher.yml');
    writeFileSync(configFile, configText({ size, registryUrl: proxy.url, registryHost, port, dir }));
    const token = randomBytes(16).toString('hex');
    const started = performance.now();
    const running = startServerProcess({
      build,
      cli,
      configFile,
      env: { [tokenEnv]: token },
      logFile: join(dir, 'server.log'),
    });
    server = running;
    const pid = running.pid;
    const headers = { authorization: `Bearer ${token}` };
    await waitFor(
      'the server to get ready',
      async () => running.alive() && (await fetch(`${url}/readyz`)).ok,
      { timeoutMs: 120_000, intervalMs: 100 },
    );
    // Started: every stage deployed its newest tag (to the in-memory target).
    await waitFor(
      `${size} deploys`,
      async () => {
        const response = await fetch(`${url}/repos`, { headers });
        // registrywatcher's shape: each repository under its name.
        const body = (await response.json()) as Record<string, { deployed_tag?: string }>;
        return Object.values(body).filter((repo) => repo.deployed_tag).length >= size;
      },
      { timeoutMs: 300_000, intervalMs: 500 },
    );
    const startMs = performance.now() - started;
    // Idle: nothing changes in the registry; the server polls every few seconds.
    const requestsBefore = proxy.requests.length;
    const idleRss: number[] = [];
    const idleAnon: number[] = [];
    const idleUntil = Date.now() + (idleCycles + 1) * pollSeconds * 1_000;
    while (Date.now() < idleUntil) {
      const rss = rssMb(pid);
      idleRss.push(rss.total);
      idleAnon.push(rss.anon);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    // Whole cycles only: the first and last group may be cut by the window's edges.
    const cycles = cyclesOf(proxy.requests.slice(requestsBefore)).filter((c) => c.listings === size);
    const base = url;
    const ping = await runWrk({ url: `${base}/ping`, threads: 2, connections, seconds: wrkSeconds });
    const projects = await runWrk({
      url: `${base}/api/projects`,
      threads: 2,
      connections,
      seconds: wrkSeconds,
      headers,
    });
    const board = await runWrk({
      url: `${base}/api/board`,
      threads: 2,
      connections,
      seconds: wrkSeconds,
      headers,
    });
    const rssAfterLoad = rssMb(pid).total;
    const projectsBody = new Uint8Array(
      await (await fetch(`${base}/api/projects`, { headers })).arrayBuffer(),
    );
    // While the server still runs (and polls), as it did under its own load.
    const floor = await measureFloor(projectsBody, dir);
    return {
      build,
      size,
      startMs,
      idleRss,
      idleAnon,
      rssAfterLoad,
      cycles,
      ping,
      projects,
      board,
      floor,
      projectsBytes: projectsBody.length,
    };
  } catch (error) {
    const log = join(dir, 'server.log');
    if (existsSync(log)) process.stderr.write(readFileSync(log, 'utf8').split('\n').slice(-20).join('\n'));
    throw error;
  } finally {
    await server?.stop();
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await ensureWrk();
const engine = await ensureDockerEngine();
const results: SizeResult[] = [];
let seedMs = 0;
try {
  await buildFixtureImages(dockerClient());
  const registry = await startRegistry();
  try {
    const largest = Math.max(...sizes);
    const seedStarted = performance.now();
    await pool(
      Array.from({ length: largest }, (_, index) => repositoryOf(index)),
      16,
      (repository) => pushSyntheticTags(registry, repository, tags),
    );
    seedMs = performance.now() - seedStarted;
    const bundleDir = mkdtempSync(join(tmpdir(), 'dw-bench-server-bundle-'));
    try {
      const cli = await bundleServer(bundleDir);
      for (const size of sizes)
        for (const build of builds)
          results.push(await measure(build, cli, size, registry.url, registry.host));
    } finally {
      rmSync(bundleDir, { recursive: true, force: true });
    }
  } finally {
    await registry.stop();
  }
} finally {
  await engine.stop();
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(0));
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const lines = [
  '# server-scale benchmark',
  '',
  '```sh',
  ['node --conditions=@docker-watcher/source bench/server-scale.bench.ts', ...process.argv.slice(2)].join(
    ' ',
  ),
  '```',
  '',
  `- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  `- Node ${process.version}; machine: ${availableParallelism()} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM`,
  '- Server: `docker-watcher serve` in its own process, either *bundle* (the CLI and the workspace packages it imports',
  '  bundled by esbuild into one JavaScript file, as close to the published build as one file gets) or *source*',
  '  (`node --conditions=@docker-watcher/source apps/server/src/cli.ts`: Node strips the types at load); SQLite store;',
  `  OCI registry adapter against the testkit's registry (${tagCount} tags per repository, seeded in`,
  `  ${(seedMs / 1000).toFixed(1)} s); one project with one stage (\`v*\`, auto-deploy) per repository, deploying to the in-memory`,
  `  target and proxy; polling every ${pollSeconds} s`,
  `- Idle: RSS sampled every 500 ms over ${idleCycles + 1} poll periods after every stage had deployed; poll cycles seen by a`,
  '  counting proxy in front of the registry (a cycle: requests with no pause over 1 s). *Anonymous* is `RssAnon`: RSS',
  "  without the file-backed pages (mostly the node binary's own code, about 35 MB for an idle `node` on this machine)",
  `- Load: \`wrk --latency -t2 -c${connections} -d${wrkSeconds}s\` per endpoint, one after the other; \`/api/projects\` and \`/api/board\` with a read token;`,
  '  *floor*: a bare `node:http` server in its own process answering the bytes of `/api/projects` to every request, under',
  '  the same load while the server still runs',
  '',
  '| repositories | build | start to all deployed s | RSS idle MB (median, max) | of it anonymous MB | RSS after load MB | poll cycle ms (median, max) | registry requests / repository / cycle |',
  '| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const r of results) {
  const cycleMs = r.cycles.map((c) => c.ms);
  const perRepo = r.cycles
    .map((c) => (c.requests / r.size).toFixed(2))
    .filter((v, i, a) => a.indexOf(v) === i);
  lines.push(
    `| ${r.size} | ${r.build} | ${(r.startMs / 1000).toFixed(1)} | ${quantile(r.idleRss, 0.5).toFixed(1)} (${Math.max(...r.idleRss).toFixed(1)}) | ${quantile(r.idleAnon, 0.5).toFixed(1)} | ${r.rssAfterLoad.toFixed(1)} | ${cycleMs.length ? `${ms(quantile(cycleMs, 0.5))} (${ms(Math.max(...cycleMs))})` : 'none seen'} | ${perRepo.join(', ') || '–'} |`,
  );
}
lines.push(
  '',
  '| repositories | build | endpoint | requests/s | p50 ms | p99 ms | non-2xx | socket errors |',
  '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |',
);
for (const r of results) {
  for (const [name, w] of [
    ['GET /ping', r.ping],
    ['GET /api/projects', r.projects],
    ['GET /api/board', r.board],
    [`floor: node:http, ${(r.projectsBytes / 1024).toFixed(0)} KB`, r.floor],
  ] as const) {
    lines.push(
      `| ${r.size} | ${r.build} | ${name} | ${w.requestsPerSecond.toFixed(0)} | ${ms(w.p50Ms)} | ${ms(w.p99Ms)} | ${w.non2xx} | ${w.socketErrors} |`,
    );
  }
}
process.stdout.write(`${lines.join('\n')}\n`);

if (args.check) {
  const hundred = results.find((r) => r.size === 100 && r.build === 'bundle');
  const thousand = results.filter((r) => r.size === 1000);
  if (!hundred && thousand.length === 0) {
    process.stderr.write('--check needs 100 (with bundle in --builds) or 1000 in --repos\n');
    process.exit(1);
  }
  const missed: string[] = [];
  const idle = hundred ? quantile(hundred.idleRss, 0.5) : undefined;
  if (idle !== undefined && !(idle < rssTargetMb))
    missed.push(
      `idle RSS of the bundled server with 100 repositories: ${idle.toFixed(1)} MB (target under ${rssTargetMb} MB)`,
    );
  for (const r of thousand)
    for (const [name, w] of [
      ['/api/projects', r.projects],
      ['/api/board', r.board],
    ] as const)
      if (!(w.p99Ms < readsP99TargetMs) || w.non2xx > 0 || w.socketErrors > 0)
        missed.push(
          `GET ${name} at 1,000 repositories (${r.build}): p99 ${ms(w.p99Ms)} ms, ${w.non2xx} non-2xx, ${w.socketErrors} socket errors (target p99 under ${readsP99TargetMs} ms, all answered; the floor answered p99 ${ms(r.floor.p99Ms)} ms in the same run)`,
        );
  if (missed.length > 0) {
    process.stderr.write(`${missed.join('\n')}\n`);
    process.exit(1);
  }
}
