// Poll cycles of core's engine at 1,000 and 10,000 repositories against a minimal loopback registry
// (a node:http server in its own process that answers tag listings from memory and counts what it is
// asked), beside the floor: the same number of plain tag-list GETs from a bare Node process (node:http,
// nothing else loaded) at the same concurrency, in the same run. Each size runs in a fresh process, so
// that its memory is its own; every stage already runs the newest tag (the steady state), so a cycle
// that finds nothing changed should cost exactly one request per repository.
//
//   node --conditions=@docker-watcher/source bench/poll-scale.bench.ts           prints a markdown report
//   node --conditions=@docker-watcher/source bench/poll-scale.bench.ts --check   also exits 1 when a warm cycle
//                                                                                 asks other than one request per
//                                                                                 repository, or the largest
//                                                                                 size's cycle is over 12× the
//                                                                                 smallest's (×10 repositories)
//   … --sizes 100,1000 --cycles 3 --concurrency 4                                   a quick look
//
// Node runs this file by type stripping: erasable TypeScript only (no enums, no parameter properties).
// The top level imports node: modules only: the floor's process loads nothing of Docker Watcher.
import { fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    sizes: { type: 'string', default: '1000,10000' },
    cycles: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '4' },
    tags: { type: 'string', default: '20' },
    role: { type: 'string', default: 'main' },
    registry: { type: 'string', default: '' },
    repos: { type: 'string', default: '0' },
  },
});
const cycles = Number(args.cycles);
const concurrency = Number(args.concurrency);
const tagCount = Number(args.tags);

const repositoryName = (index: number) => `bench/app-${String(index).padStart(5, '0')}`;
const tagsOf = () => Array.from({ length: tagCount }, (_, index) => `v1.0.${index}`);
const digestOf = (repository: string, tag: string) =>
  `sha256:${createHash('sha256').update(`${repository}:${tag}`).digest('hex')}`;
const newest = () => `v1.0.${tagCount - 1}`;

/** What a worker reports to the main process. */
interface Report {
  readonly cyclesMs: number[];
  /** Registry requests per warm cycle, as the registry counted them. */
  readonly requests: number[];
  /** After `gc()`, before anything per repository exists, and after the warm cycles. */
  readonly before: { readonly rss: number; readonly heap: number };
  readonly after: { readonly rss: number; readonly heap: number };
  /** From process start to the first warm cycle (engine: its start-up and first cycle). */
  readonly setupMs: number;
}

const memory = () => {
  (globalThis as { gc?: () => void }).gc?.();
  const usage = process.memoryUsage();
  return { rss: usage.rss, heap: usage.heapUsed };
};

// ---- the registry: tag listings from memory, manifest HEADs, a count of requests
async function serveRegistry(): Promise<void> {
  let requests = 0;
  const body = (repository: string) => JSON.stringify({ name: repository, tags: tagsOf() });
  const server = createServer((incoming, outgoing) => {
    const url = new URL(incoming.url ?? '/', 'http://registry');
    if (url.pathname === '/_stats') {
      outgoing.writeHead(200, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ requests }));
      return;
    }
    requests++;
    const tags = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
    const manifest = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(url.pathname);
    if (url.pathname === '/v2/') {
      outgoing.writeHead(200, { 'content-type': 'application/json' });
      outgoing.end('{}');
    } else if (tags?.[1]) {
      outgoing.writeHead(200, { 'content-type': 'application/json' });
      outgoing.end(body(tags[1]));
    } else if (manifest?.[1] && manifest[2]) {
      const digest = manifest[2].startsWith('sha256:') ? manifest[2] : digestOf(manifest[1], manifest[2]);
      outgoing.writeHead(200, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        'docker-content-digest': digest,
        'content-length': '2',
      });
      outgoing.end(incoming.method === 'HEAD' ? undefined : '{}');
    } else {
      outgoing.writeHead(404, { 'content-type': 'application/json' });
      outgoing.end('{"errors":[{"code":"NAME_UNKNOWN","message":"unknown"}]}');
    }
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.send?.({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

const requestsSoFar = async (registry: string) =>
  ((await (await fetch(`${registry}/_stats`)).json()) as { requests: number }).requests;

/** Warm cycles of `cycle`, counted at the registry. */
async function warmCycles(registry: string, cycle: () => Promise<void>) {
  const cyclesMs: number[] = [];
  const requests: number[] = [];
  for (let index = 0; index < cycles; index++) {
    const before = await requestsSoFar(registry);
    const started = performance.now();
    await cycle();
    cyclesMs.push(performance.now() - started);
    requests.push((await requestsSoFar(registry)) - before);
  }
  return { cyclesMs, requests };
}

// ---- the floor: a bare Node process asking every tag list, `concurrency` at a time, keeping the tags
async function floorCycles(registry: string, count: number): Promise<Report> {
  const started = performance.now();
  const before = memory();
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const known = new Map<string, string[]>();
  const repositories = Array.from({ length: count }, (_, index) => repositoryName(index));
  const list = (repository: string) =>
    new Promise<string[]>((resolve, reject) => {
      const call = request(`${registry}/v2/${repository}/tags/list?n=1000`, { agent }, (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => chunks.push(chunk));
        answer.on('end', () =>
          resolve((JSON.parse(Buffer.concat(chunks).toString()) as { tags: string[] }).tags),
        );
        answer.on('error', reject);
      });
      call.on('error', reject);
      call.end();
    });
  const cycle = async () => {
    let next = 0;
    const worker = async () => {
      while (next < repositories.length) {
        const repository = repositories[next++]!;
        known.set(repository, await list(repository));
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };
  await cycle();
  const setupMs = performance.now() - started;
  const warm = await warmCycles(registry, cycle);
  agent.destroy();
  return { ...warm, before, after: memory(), setupMs };
}

// ---- the engine: core's engine with the OCI adapter, one project of one stage per repository
async function engineCycles(registry: string, count: number): Promise<Report> {
  const started = performance.now();
  const { compileTagPolicy, createEngine, createMemoryDeployTarget, createMemoryStateStore } = await import(
    '@docker-watcher/core'
  );
  const { createOciRegistry } = await import('@docker-watcher/registry-oci');
  const before = memory();
  const store = createMemoryStateStore();
  const projects = Array.from({ length: count }, (_, index) => {
    const repository = repositoryName(index);
    return {
      id: `app-${index}`,
      registry: 'bench',
      repository,
      stages: {
        prod: {
          policy: compileTagPolicy({ pattern: 'v*' }),
          autoDeploy: true,
          deploy: { image: `registry.bench.test/${repository}`, port: 8080 },
        },
      },
    };
  });
  // The steady state: every stage runs its newest tag already (no deploys in the measurement).
  for (const project of projects) {
    const release = { tag: newest(), digest: digestOf(project.repository, newest()) };
    await store.putStage({
      state: {
        project: project.id,
        stage: 'prod',
        autoDeploy: true,
        history: [release],
        actual: release,
        desired: { ...release, reason: `${release.tag} runs already` },
      },
      expectedRevision: 0,
    });
  }
  const adapter = createOciRegistry({ url: registry });
  const target = createMemoryDeployTarget();
  const engine = createEngine({
    projects,
    registries: { bench: adapter },
    registryLimits: { bench: { concurrency } },
    target,
    store,
    pollIntervalMs: 0,
    healRoutes: false,
  });
  await engine.start();
  const setupMs = performance.now() - started;
  const deploys = await store.listDeploys({ limit: 1 });
  if (deploys.length > 0) throw new Error('the steady state deployed something: the setup is wrong');
  const warm = await warmCycles(registry, () => engine.pollOnce());
  const after = memory();
  await engine.stop();
  await target.dispose();
  await adapter.dispose();
  return { ...warm, before, after, setupMs };
}

/** Runs this file as `role` in a fresh process with a collectable heap, and returns what it reports. */
function worker<T>(role: string, extra: readonly string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(import.meta.filename, ['--role', role, ...extra], {
      execArgv: ['--expose-gc', '--conditions=@docker-watcher/source'],
    });
    child.once('message', (message) => resolve(message as T));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the ${role} process exited with ${code}`));
    });
  });
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

if (args.role === 'registry') await serveRegistry();
else if (args.role === 'engine' || args.role === 'floor') {
  const run = args.role === 'engine' ? engineCycles : floorCycles;
  process.send?.(await run(args.registry, Number(args.repos)));
  process.disconnect?.();
} else await main();

async function main() {
  const sizes = args.sizes.split(',').map(Number);
  const registryProcess = fork(import.meta.filename, ['--role', 'registry', '--tags', String(tagCount)]);
  const registry = await new Promise<string>((resolve) =>
    registryProcess.once('message', (message) => resolve((message as { url: string }).url)),
  );
  const rows: Array<{ size: number; engine: Report; floor: Report }> = [];
  try {
    for (const size of sizes) {
      const common = ['--registry', registry, '--repos', String(size), '--cycles', String(cycles)];
      const shared = [...common, '--concurrency', String(concurrency), '--tags', String(tagCount)];
      const floor = await worker<Report>('floor', shared);
      const engine = await worker<Report>('engine', shared);
      rows.push({ size, engine, floor });
    }
  } finally {
    registryProcess.kill();
  }
  report(rows);
}

function report(rows: Array<{ size: number; engine: Report; floor: Report }>) {
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
  const perRepo = (report: Report, size: number) =>
    `${((report.after.heap - report.before.heap) / size / 1024).toFixed(2)} KB heap, ${((report.after.rss - report.before.rss) / size / 1024).toFixed(2)} KB RSS`;
  const first = rows[0]!;
  const last = rows[rows.length - 1]!;
  const growth = median(last.engine.cyclesMs) / median(first.engine.cyclesMs);
  const lines = [
    '# poll-scale benchmark',
    '',
    '```sh',
    ['node --conditions=@docker-watcher/source bench/poll-scale.bench.ts', ...process.argv.slice(2)].join(
      ' ',
    ),
    '```',
    '',
    `- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    `- Node ${process.version}; machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM`,
    `- Registry: a minimal node:http registry in its own process on loopback (tag lists of ${tagCount} tags from memory);`,
    `  ${concurrency} requests at a time (the engine's \`registryLimits\`, the floor's sockets); ${cycles} warm cycles per size`,
    '- Engine: `createEngine` from core with the OCI adapter, one project of one stage per repository, each stage',
    '  running its newest tag already (memory store, memory target, no route healing); floor: a bare Node process',
    '  asking the same tag lists with node:http and keeping them in a Map. Each in a fresh process, memory after `gc()`.',
    '',
    '| repositories | who | cycle ms (median, max) | ms per repository | requests per cycle | memory per repository | RSS after |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { size, engine, floor } of rows) {
    for (const [who, item] of [
      ['engine', engine],
      ['floor', floor],
    ] as const) {
      const requests = [...new Set(item.requests)].join(', ');
      lines.push(
        `| ${size.toLocaleString('en')} | ${who} | ${median(item.cyclesMs).toFixed(0)} (${Math.max(...item.cyclesMs).toFixed(0)}) | ${(median(item.cyclesMs) / size).toFixed(3)} | ${requests} | ${perRepo(item, size)} | ${mb(item.after.rss)} MB |`,
      );
    }
  }
  lines.push(
    '',
    `Growth: the ${last.size.toLocaleString('en')}-repository cycle takes ${growth.toFixed(1)}× the ${first.size.toLocaleString('en')}-repository one (${(last.size / first.size).toFixed(0)}× the repositories); engine over floor per cycle: ${rows.map((r) => `${(median(r.engine.cyclesMs) / median(r.floor.cyclesMs)).toFixed(2)}× at ${r.size.toLocaleString('en')}`).join(', ')}.`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
  if (!args.check) return;
  const missed: string[] = [];
  for (const { size, engine } of rows) {
    if (engine.requests.some((count) => count !== size))
      missed.push(`${size}: ${engine.requests.join(', ')} requests per cycle, not ${size}`);
  }
  const allowed = (last.size / first.size) * 1.2;
  if (rows.length > 1 && growth > allowed)
    missed.push(
      `the cycle grew ${growth.toFixed(1)}× for ${(last.size / first.size).toFixed(0)}× the repositories (at most ${allowed.toFixed(0)}×)`,
    );
  if (missed.length > 0) {
    process.stderr.write(`${missed.join('\n')}\n`);
    process.exit(1);
  }
}
