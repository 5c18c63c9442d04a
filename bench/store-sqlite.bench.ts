// The SQLite store under a realistic load: 10,000 deploy records with 100 log lines each.
//
//   node --conditions=@docker-watcher/source bench/store-sqlite.bench.ts           prints a markdown report
//   node --conditions=@docker-watcher/source bench/store-sqlite.bench.ts --check   also exits 1 when a target is missed
//   … --deploys 1000                                                                  a smaller store, for a quick look
//
// Node runs this file by type stripping: erasable TypeScript only (no enums, no parameter properties).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { DeployUpdate } from '@docker-watcher/core';
import { createSqliteStateStore, type SqliteStateStore } from '@docker-watcher/store-sqlite';

const { values: args } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    deploys: { type: 'string', default: '10000' },
    lines: { type: 'string', default: '100' },
  },
});
const deployCount = Number(args.deploys);
const linesPerDeploy = Number(args.lines);
const targets = { listMedianMs: 20, listP95Ms: 20, appendP99Ms: 2 };
const projects = ['web-app', 'api', 'worker', 'admin', 'docs', 'billing', 'search', 'auth'];
const stages = ['dev', 'rel', 'prod'];

const now = (): number => performance.now();

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}

async function measure(
  runs: number,
  warmup: number,
  action: (run: number) => Promise<unknown>,
): Promise<number[]> {
  for (let run = 0; run < warmup; run++) await action(run);
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const start = now();
    await action(warmup + run);
    samples.push(now() - start);
  }
  return samples;
}

const digest = (n: number): string => `sha256:${n.toString(16).padStart(64, '0')}`;
const ms = (value: number): string => value.toFixed(3);
const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

async function fill(store: SqliteStateStore): Promise<number> {
  const start = now();
  const at = new Date().toISOString();
  for (let n = 0; n < deployCount; n++) {
    const id = `deploy-${String(n).padStart(6, '0')}`;
    const project = projects[n % projects.length] ?? 'web-app';
    const stage = stages[Math.floor(n / projects.length) % stages.length] ?? 'dev';
    let record = await store.createDeploy({
      deploy: {
        id,
        project,
        stage,
        release: { tag: `v1.${Math.floor(n / 100)}.${n % 100}`, digest: digest(n) },
        previous: { tag: 'v1.0.0', digest: digest(0) },
        trigger: n % 10 === 0 ? 'manual' : 'auto',
        state: 'pending',
        data: {},
      },
    });
    // A deploy's usual journey: four step transitions, adapter facts, and its log.
    const journey: DeployUpdate[] = [
      { state: 'pulling' },
      { state: 'starting', data: { candidate: `${project}-${stage}-${n % 2 === 0 ? 'blue' : 'green'}` } },
      { state: 'health-checking', note: 'probing /health' },
      { state: 'succeeded', finished: true },
    ];
    for (const update of journey) {
      record = await store.updateDeploy({ id, expectedRevision: record.revision, update });
    }
    await store.appendLog({
      deployId: id,
      lines: Array.from({ length: linesPerDeploy }, (_, line) => ({
        at,
        level: line % 20 === 0 ? ('warn' as const) : ('info' as const),
        line: `[${project}/${stage}] step ${line}: pulled layer sha256:${(n * 131 + line).toString(16).padStart(12, '0')} (${line * 17} kB)`,
      })),
    });
  }
  return now() - start;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'store-sqlite-bench-'));
  const path = join(dir, 'docker-watcher.db');
  try {
    let store = createSqliteStateStore({ path });
    const fillMs = await fill(store);

    const list = await measure(200, 20, () => store.listDeploys({ limit: 50 }));
    const listProject = await measure(200, 20, (run) =>
      store.listDeploys({ project: projects[run % projects.length], stage: 'prod', limit: 50 }),
    );
    const listPage = await measure(200, 20, (run) =>
      store.listDeploys({
        limit: 50,
        before: `deploy-${String(deployCount - 1 - ((run * 37) % (deployCount - 1))).padStart(6, '0')}`,
      }),
    );
    const readLog = await measure(200, 20, (run) =>
      store.readLog({ deployId: `deploy-${String((run * 7919) % deployCount).padStart(6, '0')}` }),
    );
    const line = (run: number) => ({
      deployId: `deploy-${String((run * 7919) % deployCount).padStart(6, '0')}`,
      lines: [{ at: new Date().toISOString(), level: 'info' as const, line: `appended line ${run}` }],
    });
    const append = await measure(2000, 100, (run) => store.appendLog(line(run)));
    await store.dispose();

    store = createSqliteStateStore({ path, synchronous: 'full' });
    const appendFull = await measure(500, 50, (run) => store.appendLog(line(run + 10_000)));
    await store.dispose();

    const openHeader = await measure(5, 1, async () =>
      createSqliteStateStore({ path, integrityCheck: 'header' }).dispose(),
    );
    const openQuick = await measure(3, 1, async () =>
      createSqliteStateStore({ path, integrityCheck: 'quick' }).dispose(),
    );
    const bytes = statSync(path).size;

    const rows: Array<[string, string, string, string]> = [
      [
        '`listDeploys({ limit: 50 })`',
        ms(percentile(list, 50)),
        ms(percentile(list, 95)),
        ms(percentile(list, 99)),
      ],
      [
        '`listDeploys({ project, stage, limit: 50 })`',
        ms(percentile(listProject, 50)),
        ms(percentile(listProject, 95)),
        ms(percentile(listProject, 99)),
      ],
      [
        '`listDeploys({ limit: 50, before })`',
        ms(percentile(listPage, 50)),
        ms(percentile(listPage, 95)),
        ms(percentile(listPage, 99)),
      ],
      [
        '`readLog` of one deploy (100 lines)',
        ms(percentile(readLog, 50)),
        ms(percentile(readLog, 95)),
        ms(percentile(readLog, 99)),
      ],
      [
        '`appendLog` of one line (`synchronous: normal`)',
        ms(percentile(append, 50)),
        ms(percentile(append, 95)),
        ms(percentile(append, 99)),
      ],
      [
        '`appendLog` of one line (`synchronous: full`)',
        ms(percentile(appendFull, 50)),
        ms(percentile(appendFull, 95)),
        ms(percentile(appendFull, 99)),
      ],
      [
        'open (`integrityCheck: header`)',
        ms(percentile(openHeader, 50)),
        ms(percentile(openHeader, 95)),
        '–',
      ],
      ['open (`integrityCheck: quick`)', ms(percentile(openQuick, 50)), ms(percentile(openQuick, 95)), '–'],
    ];
    const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
    process.stdout.write(
      [
        `store-sqlite: ${deployCount.toLocaleString('en')} deploys × ${linesPerDeploy} log lines, 5 journal entries each`,
        `Node ${process.version}, ${availableParallelism()} cores, ${cpu}`,
        `fill through the store's API: ${(fillMs / 1000).toFixed(1)} s; database file: ${mib(bytes)} MiB (${bytes.toLocaleString('en')} bytes)`,
        '',
        '| operation | median ms | p95 ms | p99 ms |',
        '| --- | ---: | ---: | ---: |',
        ...rows.map((row) => `| ${row.join(' | ')} |`),
        '',
      ].join('\n'),
    );

    const missed: string[] = [];
    if (percentile(list, 50) > targets.listMedianMs)
      missed.push(`listDeploys median > ${targets.listMedianMs} ms`);
    if (percentile(list, 95) > targets.listP95Ms) missed.push(`listDeploys p95 > ${targets.listP95Ms} ms`);
    if (percentile(append, 99) > targets.appendP99Ms)
      missed.push(`appendLog p99 > ${targets.appendP99Ms} ms`);
    process.stdout.write(missed.length === 0 ? 'targets met\n' : `targets missed: ${missed.join('; ')}\n`);
    if (args.check && missed.length > 0) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
