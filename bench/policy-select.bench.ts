// Tag policy selection over 10k, 50k and 100k realistic tags.
//
//   node --conditions=@docker-watcher/source bench/policy-select.bench.ts           prints a markdown table
//   node --conditions=@docker-watcher/source bench/policy-select.bench.ts --check   also exits 1 when a 100k median exceeds 50 ms
//
// Node runs this file by type stripping: erasable TypeScript only (no enums, no parameter properties).
import { availableParallelism, cpus } from 'node:os';
import { compileTagPolicy } from '@docker-watcher/core';

const sizes = [10_000, 50_000, 100_000];
const warmupRuns = 10;
const measuredRuns = 30;
const budgetMs = 50;

/** mulberry32: a seeded generator, so every run measures the same tags. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function generateTags(count: number, seed: number): string[] {
  const next = random(seed);
  const int = (below: number) => Math.floor(next() * below);
  const hex = (length: number) => Array.from({ length }, () => '0123456789abcdef'[int(16)]).join('');
  const version = () => `${int(4)}.${int(30)}.${int(40)}`;
  const makers: Array<[weight: number, make: () => string]> = [
    [35, () => `v${version()}`],
    [8, () => version()],
    [10, () => `v${version()}-${['rc', 'beta', 'alpha'][int(3)]}.${int(10)}`],
    [8, () => `v${version()}-${['alpine', 'slim', 'slim-bookworm', 'alpine3.20'][int(4)]}`],
    [5, () => `${int(4)}.${int(30)}${['', '-slim', '-alpine'][int(3)]}`],
    [10, () => hex(40)],
    [4, () => `sha256-${hex(64)}.${['sig', 'att', 'sbom'][int(3)]}`],
    [6, () => `${['build', 'dev', 'main'][int(3)]}-${int(100_000)}`],
    [
      4,
      () =>
        `main-2026${String(1 + int(12)).padStart(2, '0')}${String(1 + int(28)).padStart(2, '0')}-${int(5000)}`,
    ],
    [2, () => ['latest', 'stable', 'edge', 'nightly'][int(4)] ?? 'latest'],
    [3, () => ''],
    [3, () => Array.from({ length: 1 + int(40) }, () => String.fromCodePoint(0x20 + int(0x2ff0))).join('')],
    [2, () => `v${version()}`.toUpperCase()],
  ];
  const total = makers.reduce((sum, [weight]) => sum + weight, 0);
  const tags: string[] = [];
  for (let index = 0; index < count; index++) {
    let pick = int(total);
    for (const [weight, make] of makers) {
      if (pick < weight) {
        tags.push(make());
        break;
      }
      pick -= weight;
    }
  }
  return tags;
}

function percentile(sorted: readonly number[], fraction: number): number {
  const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? Number.NaN;
}

function measure(run: () => unknown): { median: number; p95: number } {
  const times: number[] = [];
  for (let index = 0; index < measuredRuns; index++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { median: percentile(times, 0.5), p95: percentile(times, 0.95) };
}

const policy = compileTagPolicy({ semver: '^1', include: String.raw`^v\d` });
const current = 'v1.0.0';

interface Row {
  size: number;
  order: string;
  candidate: string;
  median: number;
  p95: number;
}

const inputs = sizes.flatMap((size) => {
  const random = generateTags(size, 20261101 + size);
  // Registries list tags sorted by name: nearly ascending versions, where the leader of a
  // single-pass maximum changes most often.
  return [
    { size, order: 'random', tags: random },
    { size, order: 'sorted by name', tags: [...random].sort() },
  ];
});

// Warm every input up first, so small sizes are not measured on colder code than large ones.
for (const { tags } of inputs) {
  for (let run = 0; run < warmupRuns; run++) policy.select({ tags, current });
}

const rows: Row[] = inputs.map(({ size, order, tags }) => ({
  size,
  order,
  candidate: policy.select({ tags, current })?.tag ?? '(none)',
  ...measure(() => policy.select({ tags, current })),
}));

const largest =
  inputs.find((item) => item.size === sizes[sizes.length - 1] && item.order === 'random')?.tags ?? [];
const others = [
  { name: 'semver `*` (shape-keeping, no current)', options: { semver: '*' }, current: undefined },
  { name: 'semver `*`, current `v1.2.3-alpine`', options: { semver: '*' }, current: 'v1.2.3-alpine' },
  { name: 'pattern `v*` (name order)', options: { pattern: 'v*' }, current: undefined },
  {
    name: 'pattern `dev-*`, order pushed',
    options: { pattern: 'dev-*', order: 'pushed' as const },
    current: undefined,
  },
  {
    name: 'extract `^main-(?<key>\\d{8}-\\d+)$`',
    options: { extract: String.raw`^main-(?<key>\d{8}-\d+)$` },
    current: undefined,
  },
].map(({ name, options, current: running }) => {
  const other = compileTagPolicy(options);
  for (let run = 0; run < warmupRuns; run++) other.select({ tags: largest, current: running });
  return {
    name,
    candidate: other.select({ tags: largest, current: running })?.tag ?? '(none)',
    ...measure(() => other.select({ tags: largest, current: running })),
  };
});

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`# policy.select: semver \`^1\` + include \`^v\\d\`, current \`v1.0.0\``);
console.log('');
console.log(`node ${process.version}, ${availableParallelism()} cores (${cpu}), ${new Date().toISOString()}`);
console.log(`${warmupRuns} warm-up runs, then ${measuredRuns} measured runs per row`);
console.log('');
console.log('| tags | order | median ms | p95 ms | median µs per 1k tags | candidate |');
console.log('| ---: | --- | ---: | ---: | ---: | --- |');
for (const row of rows) {
  const perThousand = (row.median / row.size) * 1000 * 1000;
  console.log(
    `| ${row.size.toLocaleString('en-US')} | ${row.order} | ${row.median.toFixed(2)} | ${row.p95.toFixed(2)} | ${perThousand.toFixed(1)} | \`${row.candidate}\` |`,
  );
}

console.log('');
console.log(
  `Other policies over the same ${largest.length.toLocaleString('en-US')} random tags (for comparison):`,
);
console.log('');
console.log('| policy | median ms | p95 ms | candidate |');
console.log('| --- | ---: | ---: | --- |');
for (const row of others) {
  console.log(`| ${row.name} | ${row.median.toFixed(2)} | ${row.p95.toFixed(2)} | \`${row.candidate}\` |`);
}

if (process.argv.includes('--check')) {
  const over = rows
    .filter((row) => row.size === sizes[sizes.length - 1])
    .filter((row) => row.median > budgetMs);
  if (over.length > 0) {
    console.error(
      `\nFAIL: 100k median over ${budgetMs} ms: ${over.map((row) => `${row.order} ${row.median.toFixed(2)} ms`).join(', ')}`,
    );
    process.exitCode = 1;
  } else {
    console.log(`\nOK: every 100k median is under ${budgetMs} ms`);
  }
}
