// One registry poll cycle against a real local distribution registry (the testkit's): 200 repositories of
// 50 tags each, listed 16 requests at a time, in anonymous, basic and token auth.
//
//   node --conditions=@docker-watcher/source bench/registry-poll.bench.ts           prints a markdown report
//   node --conditions=@docker-watcher/source bench/registry-poll.bench.ts --check   also exits 1 when a warm cycle
//                                                                                    costs more than one request per
//                                                                                    repository or fetches a token
//   … --repos 20 --tags 10 --modes token                                              a quick look
//
// Needs a running Docker Engine and the testkit's registry image (`pnpm vitest run --project testkit` builds it).
// Node runs this file by type stripping: erasable TypeScript only (no enums, no parameter properties).
import { availableParallelism, cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { createOciRegistry, type OciRegistry } from '@docker-watcher/registry-oci';
import {
  type LocalRegistry,
  pushSyntheticTags,
  type RegistryAuthMode,
  startRegistry,
} from '@docker-watcher/testkit';

const { values: args } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    repos: { type: 'string', default: '200' },
    tags: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '16' },
    cycles: { type: 'string', default: '10' },
    modes: { type: 'string', default: 'anonymous,basic,token' },
  },
});
const repoCount = Number(args.repos);
const tagCount = Number(args.tags);
const concurrency = Number(args.concurrency);
const warmCycles = Number(args.cycles);
const modes = args.modes.split(',') as RegistryAuthMode[];

const repositories = Array.from(
  { length: repoCount },
  (_, index) => `bench/app-${String(index).padStart(3, '0')}`,
);
const tags = Array.from({ length: tagCount }, (_, index) => `v1.${Math.floor(index / 10)}.${index % 10}`);

/** Runs `work` over `items`, `limit` at a time. */
async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

interface Cycle {
  readonly ms: number;
  readonly requests: number;
  readonly tokenRequests: number;
}

async function cycle(adapter: OciRegistry, registry: LocalRegistry, withDigest: boolean): Promise<Cycle> {
  const before = adapter.stats();
  const tokensBefore = registry.tokenServer?.requests.length ?? 0;
  const started = performance.now();
  await pool(repositories, concurrency, async (repository) => {
    const listed = await adapter.listTags({ repository });
    if (listed.length !== tagCount)
      throw new Error(`${repository}: ${listed.length} tags, ${tagCount} pushed`);
    if (withDigest) await adapter.resolveReference({ repository, reference: tags[0] ?? 'latest' });
  });
  const ms = performance.now() - started;
  const after = adapter.stats();
  const tokenRequests = (registry.tokenServer?.requests.length ?? 0) - tokensBefore;
  if (tokenRequests !== after.tokenRequests - before.tokenRequests) {
    throw new Error('the token server and the adapter disagree on the token requests');
  }
  return { ms, requests: after.requests - before.requests, tokenRequests };
}

interface ModeResult {
  readonly mode: RegistryAuthMode;
  readonly seedMs: number;
  readonly cold: Cycle;
  readonly warm: readonly Cycle[];
  readonly withDigest: Cycle;
}

async function measure(mode: RegistryAuthMode): Promise<ModeResult> {
  const registry = await startRegistry({ auth: mode });
  try {
    const seedStarted = performance.now();
    await pool(repositories, concurrency, (repository) => pushSyntheticTags(registry, repository, tags));
    const seedMs = performance.now() - seedStarted;
    const adapter = createOciRegistry({
      url: registry.url,
      ...(registry.credentials
        ? { username: registry.credentials.username, password: registry.credentials.password }
        : {}),
    });
    const cold = await cycle(adapter, registry, false);
    const warm: Cycle[] = [];
    for (let index = 0; index < warmCycles; index++) warm.push(await cycle(adapter, registry, false));
    const withDigest = await cycle(adapter, registry, true);
    await adapter.dispose();
    return { mode, seedMs, cold, warm, withDigest };
  } finally {
    await registry.stop();
  }
}

const results: ModeResult[] = [];
for (const mode of modes) results.push(await measure(mode));

const perRepo = (value: number) => (value / repoCount).toFixed(2);
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const lines = [
  '# registry-poll benchmark',
  '',
  '```sh',
  ['node --conditions=@docker-watcher/source bench/registry-poll.bench.ts', ...process.argv.slice(2)].join(
    ' ',
  ),
  '```',
  '',
  `- Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  `- Node ${process.version}; machine: ${availableParallelism()} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB RAM`,
  `- Registry: the testkit's Debian distribution 2.8 in a container on loopback; ${repoCount} repositories × ${tagCount} tags,`,
  `  ${concurrency} requests at a time; adapter defaults (\`pageSize: 1000\`, so one page per repository)`,
  '',
  '| auth | cycle | requests / repository | token fetches | cycle ms |',
  '| --- | --- | ---: | ---: | ---: |',
];
for (const result of results) {
  const warmRequests = result.warm.map((item) => item.requests);
  const warmTokens = result.warm.reduce((sum, item) => sum + item.tokenRequests, 0);
  const warmMs = result.warm.map((item) => item.ms);
  lines.push(
    `| ${result.mode} | first (learns auth) | ${perRepo(result.cold.requests)} | ${result.cold.tokenRequests} | ${result.cold.ms.toFixed(0)} |`,
    `| ${result.mode} | unchanged, ${warmCycles} cycles (median ms, max) | ${warmRequests
      .map(perRepo)
      .filter((v, i, a) => a.indexOf(v) === i)
      .join(', ')} | ${warmTokens} | ${median(warmMs).toFixed(0)} (max ${Math.max(...warmMs).toFixed(0)}) |`,
    `| ${result.mode} | unchanged, tags + one digest HEAD | ${perRepo(result.withDigest.requests)} | ${result.withDigest.tokenRequests} | ${result.withDigest.ms.toFixed(0)} |`,
  );
}
lines.push(
  '',
  `Seeding through the registry API: ${results.map((r) => `${r.mode} ${(r.seedMs / 1000).toFixed(1)} s`).join(', ')}.`,
);
process.stdout.write(`${lines.join('\n')}\n`);

if (args.check) {
  const missed = results.filter(
    (result) =>
      result.warm.some((item) => item.requests !== repoCount) ||
      result.warm.some((item) => item.tokenRequests > 0),
  );
  if (missed.length > 0) {
    process.stderr.write(
      `more than one request per repository in a warm cycle: ${missed.map((r) => r.mode).join(', ')}\n`,
    );
    process.exit(1);
  }
}
