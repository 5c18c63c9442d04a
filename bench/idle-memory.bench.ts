// Idle memory of the reference server as a user runs it: the `docker-watcher` launcher (bin.ts, bundled
// with code splitting into a temp folder and run with the Node options of the image's command)
// serving a SQLite store and watching 100 repositories of a real local registry, polled every few
// seconds, nothing changing. Resident memory is sampled over a few minutes, beside the same server run
// as `node bin.mjs` (no launcher options: the contrast) and a bare `node -e` process (the floor), all
// three at the same time.
//
//   node --conditions=@docker-watcher/source bench/idle-memory.bench.ts           prints a markdown report
//   node --conditions=@docker-watcher/source bench/idle-memory.bench.ts --check   also exits 1 when the
//                                                                                 launcher's median RSS is
//                                                                                 80 MB or more, or its late
//                                                                                 samples stand over 4 MB
//                                                                                 above its early ones
//   … --minutes 1 --poll-seconds 2                                                a quick look
//
// Each repository is one project with one stage (`v*`, auto-deploy) deploying to the in-memory target and
// proxy: the figures are the server's cost of watching. Poll cycles are counted by a proxy in front of the
// registry. Starts (and removes again) a Docker Engine when none answers and the testkit's registry.
// Node runs this file by type stripping: erasable TypeScript only.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
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
import { type CountingProxy, startCountingProxy } from './_counting-proxy.ts';
import { pool } from './_pool.ts';
import { quantile } from './_quantile.ts';
import { bundleLauncher, launcherNodeOptions } from './_server-build.ts';

const { values: args } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    repos: { type: 'string', default: '100' },
    'poll-seconds': { type: 'string', default: '5' },
    // Poll cycles after every stage deployed before sampling starts.
    'warm-cycles': { type: 'string', default: '3' },
    minutes: { type: 'string', default: '4' },
  },
});
const size = Number(args.repos);
const pollSeconds = Number(args['poll-seconds']);
const warmCycles = Number(args['warm-cycles']);
const minutes = Number(args.minutes);
const rssTargetMb = 80;
/** Late samples (last fifth) may stand this much above the early ones (first fifth), medians. */
const stepTargetMb = 4;
const tokenEnv = 'DW_BENCH_TOKEN';
const repositoryOf = (index: number) => `bench/idle-${String(index).padStart(4, '0')}`;

function configText(registryUrl: string, registryHost: string, port: number, dir: string) {
  const projects: Record<string, unknown> = {};
  for (let index = 0; index < size; index++)
    projects[`idle-${String(index).padStart(4, '0')}`] = {
      registry: 'local',
      image: `${registryHost}/${repositoryOf(index)}`,
      port: 8080,
      stages: { dev: { tag_pattern: 'v*', auto_deploy: true } },
    };
  // JSON is YAML: the server reads it as its config file.
  return JSON.stringify({
    global: {
      domain: 'bench.test',
      store: `sqlite:${join(dir, 'docker-watcher.db')}`,
      poll_interval_seconds: pollSeconds,
      target: { type: 'memory' },
      proxy: { type: 'memory' },
      server: {
        listen: `127.0.0.1:${port}`,
        tokens: [{ name: 'bench', token_env: tokenEnv, scopes: ['read'] }],
      },
    },
    registries: { local: { type: 'oci', url: registryUrl } },
    projects,
  });
}

interface Sample {
  readonly rss: number;
  readonly anon: number;
  /** User + system CPU seconds since the process started. */
  readonly cpu: number;
}

const clockTicks = 100;
/** Resident memory in MB (`VmRSS`, and `RssAnon`: heap, stacks, malloc) and CPU seconds of a process. */
function sample(pid: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB$`, 'm').exec(status)?.[1] ?? Number.NaN) / 1024;
  // /proc/<pid>/stat: fields 14 and 15 (utime, stime) after the command name in parentheses.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[11]) + Number(fields[12])) / clockTicks;
  return { rss: field('VmRSS'), anon: field('RssAnon'), cpu };
}

interface Running {
  readonly name: string;
  readonly pid: number;
  readonly alive: () => boolean;
  readonly stop: () => Promise<void>;
}

function start(name: string, command: string, argv: string[], env: Record<string, string>, log: string) {
  const out = openSync(log, 'a');
  const child: ChildProcess = spawn(command, argv, {
    env: { ...process.env, ...env },
    stdio: ['ignore', out, out],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    name,
    pid: child.pid ?? Number.NaN,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(force);
      process.removeListener('exit', killOnExit);
    },
  } satisfies Running;
}

interface Server extends Running {
  readonly proxy: CountingProxy;
  readonly dir: string;
}

async function startServer(
  name: string,
  launcher: string,
  asExecutable: boolean,
  registry: { url: string; host: string },
): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), `dw-bench-idle-${name}-`));
  const proxy = await startCountingProxy(registry.url);
  const port = await freePort();
  const configFile = join(dir, 'docker-watcher.yml');
  writeFileSync(configFile, configText(proxy.url, registry.host, port, dir));
  const token = randomBytes(16).toString('hex');
  const argv = ['serve', '--no-watch', '--config', configFile];
  const running = asExecutable
    ? start(
        name,
        process.execPath,
        [...launcherNodeOptions(), launcher, ...argv],
        { [tokenEnv]: token },
        join(dir, 'server.log'),
      )
    : start(name, process.execPath, [launcher, ...argv], { [tokenEnv]: token }, join(dir, 'server.log'));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      'the server to get ready',
      async () => running.alive() && (await fetch(`${url}/readyz`)).ok,
      {
        timeoutMs: 120_000,
        intervalMs: 200,
      },
    );
    await waitFor(
      `${size} deploys`,
      async () => {
        const response = await fetch(`${url}/repos`, { headers: { authorization: `Bearer ${token}` } });
        // registrywatcher's shape: each repository under its name.
        const body = (await response.json()) as Record<string, { deployed_tag?: string }>;
        return Object.values(body).filter((repo) => repo.deployed_tag).length >= size;
      },
      { timeoutMs: 300_000, intervalMs: 500 },
    );
  } catch (error) {
    const log = join(dir, 'server.log');
    if (existsSync(log)) process.stderr.write(readFileSync(log, 'utf8').split('\n').slice(-20).join('\n'));
    await running.stop();
    throw error;
  }
  return { ...running, proxy, dir };
}

const listingsOf = (proxy: CountingProxy) =>
  proxy.requests.filter((r) => r.path.includes('/tags/list')).length;

const engine = await ensureDockerEngine();
const runs = new Map<string, { samples: Sample[]; cycles: number }>();
let seedMs = 0;
let nodeOptions = '';
try {
  await buildFixtureImages(dockerClient());
  const registry = await startRegistry();
  const bundleDir = mkdtempSync(join(tmpdir(), 'dw-bench-idle-bundle-'));
  const servers: Running[] = [];
  try {
    const seedStarted = performance.now();
    await pool(
      Array.from({ length: size }, (_, index) => repositoryOf(index)),
      16,
      (repository) => pushSyntheticTags(registry, repository, ['v1.0.0', 'v1.0.1', 'v1.0.2']),
    );
    seedMs = performance.now() - seedStarted;
    const launcher = await bundleLauncher(bundleDir);
    nodeOptions = launcherNodeOptions().join(' ');
    const launched = await startServer('launcher', launcher, true, registry);
    servers.push(launched);
    const plain = await startServer('plain', launcher, false, registry);
    servers.push(plain);
    const floor = start('floor', process.execPath, ['-e', 'setInterval(() => {}, 60_000)'], {}, '/dev/null');
    servers.push(floor);
    // Warm: a few whole poll cycles of both servers after their deploys.
    const warmed = (s: Server) => listingsOf(s.proxy) >= size * (warmCycles + 1);
    await waitFor('warm-up poll cycles', async () => warmed(launched) && warmed(plain), {
      timeoutMs: (warmCycles + 3) * pollSeconds * 1_000 + 120_000,
      intervalMs: 500,
    });
    const before = new Map([launched, plain].map((s) => [s.name, listingsOf(s.proxy)]));
    for (const s of servers) runs.set(s.name, { samples: [], cycles: 0 });
    const until = Date.now() + minutes * 60_000;
    while (Date.now() < until) {
      for (const s of servers) runs.get(s.name)?.samples.push(sample(s.pid));
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    for (const s of [launched, plain]) {
      const run = runs.get(s.name);
      if (run) run.cycles = (listingsOf(s.proxy) - (before.get(s.name) ?? 0)) / size;
    }
  } finally {
    for (const s of servers) {
      await s.stop();
      if ('proxy' in s) {
        await (s as Server).proxy.close();
        rmSync((s as Server).dir, { recursive: true, force: true });
      }
    }
    rmSync(bundleDir, { recursive: true, force: true });
    await registry.stop();
  }
} finally {
  await engine.stop();
}

const fifth = (samples: readonly Sample[], late: boolean) => {
  const count = Math.max(1, Math.floor(samples.length / 5));
  return late ? samples.slice(-count) : samples.slice(0, count);
};
const median = (values: readonly number[]) => quantile(values, 0.5);
const rows = [...runs].map(([name, run]) => {
  const rss = run.samples.map((s) => s.rss);
  const early = median(fifth(run.samples, false).map((s) => s.rss));
  const late = median(fifth(run.samples, true).map((s) => s.rss));
  const first = run.samples[0];
  const last = run.samples.at(-1);
  const cpuMs = first && last ? (last.cpu - first.cpu) * 1_000 : Number.NaN;
  return {
    name,
    median: median(rss),
    max: Math.max(...rss),
    anon: median(run.samples.map((s) => s.anon)),
    early,
    late,
    cpuMs,
    cycles: run.cycles,
  };
});
const label: Record<string, string> = {
  launcher: `\`docker-watcher\` launcher (\`${nodeOptions || 'no options'}\`)`,
  plain: '`node bin.mjs` (no options: contrast)',
  floor: "bare `node -e 'setInterval(…)'` (floor)",
};
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const lines = [
  '# idle-memory benchmark',
  '',
  '```sh',
  ['node --conditions=@docker-watcher/source bench/idle-memory.bench.ts', ...process.argv.slice(2)].join(' '),
  '```',
  '',
  `- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; load average at the end ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (others share the machine)`,
  `- Node ${process.version}; machine: ${availableParallelism()} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM`,
  `- ${size} repositories (3 tags each, seeded in ${(seedMs / 1000).toFixed(1)} s), one project with one stage each`,
  `  (\`v*\`, auto-deploy, in-memory target and proxy); SQLite store; polling every ${pollSeconds} s. RSS sampled every`,
  `  2 s for ${minutes} min after ${warmCycles} poll cycles past the deploys, the three processes at the same time.`,
  "  *Anonymous* is `RssAnon` (JS heap, malloc, stacks); the rest of RSS is file-backed (the node binary's pages).",
  '  *Early*/*late*: medians of the first and last fifth of the samples.',
  '',
  '| process | RSS MB median (max) | of it anonymous MB | early → late MB | CPU ms over the window | poll cycles in the window |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map(
    (r) =>
      `| ${label[r.name] ?? r.name} | ${r.median.toFixed(1)} (${r.max.toFixed(1)}) | ${r.anon.toFixed(1)} | ${r.early.toFixed(1)} → ${r.late.toFixed(1)} | ${r.cpuMs.toFixed(0)} | ${r.name === 'floor' ? '–' : r.cycles.toFixed(1)} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);

if (args.check) {
  const launched = rows.find((r) => r.name === 'launcher');
  const missed: string[] = [];
  if (!launched) missed.push('no samples of the launched server');
  else {
    if (!(launched.median < rssTargetMb))
      missed.push(
        `idle RSS ${launched.median.toFixed(1)} MB with ${size} repositories (target under ${rssTargetMb} MB)`,
      );
    if (!(launched.late - launched.early <= stepTargetMb))
      missed.push(
        `RSS stepped up ${(launched.late - launched.early).toFixed(1)} MB from early to late samples (target at most ${stepTargetMb} MB)`,
      );
    if (!(launched.cycles >= 1)) missed.push('no whole poll cycle during the sampling window');
  }
  if (missed.length > 0) {
    process.stderr.write(`${missed.join('\n')}\n`);
    process.exit(1);
  }
}
