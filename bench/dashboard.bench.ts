// The dashboard as a browser meets it, on the real stack (`docker-watcher serve` from source in its own
// process serving the real build, SQLite, the OCI registry, the Docker target, Caddy) in Debian's Chromium:
//
// 1. weight: the JavaScript and CSS the login page and then the board load (gzip -9 of each file, and the
//    bytes Chromium actually received, brotli from the server);
// 2. render: 1,000 projects × 3 stages, from navigating to the board to its first page of rows, the part
//    of it after the API answered, and a re-render for a search;
// 3. live: from an engine event (its `at`, written by the server) to the board showing it, for every
//    deploy state of pushed releases, on that same 1,000-project board.
//
//   node --conditions=@docker-watcher/source bench/dashboard.bench.ts           prints a markdown report
//   node --conditions=@docker-watcher/source bench/dashboard.bench.ts --check   also exits 1 when the board's
//                                                                             JS+CSS is 100 KB gzip or more,
//                                                                             or the event p95 is 300 ms or more
//   … --projects 100 --pushes 3                                                 a quick look
//
// Starts (and removes again) a Docker Engine when none answers, the registry, Caddy, the server and the
// containers of the pushed releases. Erasable TypeScript only (Node runs it by type stripping).
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import {
  type DashboardStack,
  dashboardDir,
  type StackProject,
  startDashboardStack,
  waitFor,
} from '@docker-watcher/example-server-demo';
import type { Page } from 'playwright-core';
import { quantile } from './_quantile.ts';

const { values: args } = parseArgs({
  options: {
    check: { type: 'boolean', default: false },
    projects: { type: 'string', default: '1000' },
    pushes: { type: 'string', default: '10' },
  },
});
const projectCount = Number(args.projects);
const pushCount = Number(args.pushes);
const weightTargetKb = 100;
const p95TargetMs = 300;

// One live project deploys for real; the others hold what they see (auto-deploy off, nothing pushed),
// so the board is full without running thousands of containers.
const live = 'live-0000';
const projects: Record<string, StackProject> = {
  [live]: {
    repository: 'bench/live',
    stages: {
      dev: { tag_pattern: 'dev-*', auto_deploy: true },
      rel: { tag_pattern: 'v*', auto_deploy: false },
      prod: { tag_pattern: 'v*', auto_deploy: false, promote_from: 'rel' },
    },
  },
};
for (let i = 1; i < projectCount; i++)
  projects[`app-${String(i).padStart(4, '0')}`] = {
    repository: `bench/app-${i}`,
    stages: {
      dev: { tag_pattern: 'dev-*', auto_deploy: false },
      rel: { tag_pattern: 'v*', auto_deploy: false, confirm: true },
      prod: { tag_pattern: 'v*', auto_deploy: false, confirm: true, promote_from: 'rel' },
    },
  };

const kb = (bytes: number) => (bytes / 1024).toFixed(1);

// What the page functions use of the browser (this project's TypeScript has no DOM library).
interface Entry {
  readonly name: string;
  readonly startTime: number;
  readonly responseEnd: number;
  readonly encodedBodySize: number;
}
type Timeline = { getEntriesByType(type: string): Entry[]; timeOrigin: number; now(): number };
type Watcher = new (callback: () => void) => { observe(target: unknown, options: object): void };

interface Weight {
  readonly page: string;
  readonly files: number;
  readonly raw: number;
  readonly gzip: number;
  readonly transferred: number;
}

/** JS and CSS a page loaded so far: the files on disk (raw, gzip -9) and what Chromium received. */
async function weightOf(page: Page, name: string): Promise<Weight> {
  const loaded = await page.evaluate(() =>
    (performance as unknown as Timeline)
      .getEntriesByType('resource')
      .filter((entry) => /\/_app\/immutable\/.*\.(js|css)$/.test(new URL(entry.name).pathname))
      .map((entry) => ({ path: new URL(entry.name).pathname, transferred: entry.encodedBodySize })),
  );
  let raw = 0;
  let gzip = 0;
  let transferred = 0;
  for (const file of loaded) {
    const body = readFileSync(join(dashboardDir, 'build', file.path));
    raw += body.length;
    gzip += gzipSync(body, { level: 9 }).length;
    transferred += file.transferred;
  }
  return { page: name, files: loaded.length, raw, gzip, transferred };
}

async function login(d: DashboardStack): Promise<{ page: Page; login: Weight; board: Weight }> {
  const context = await d.browser.newContext({ baseURL: d.url, viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('Password').waitFor();
  const loginWeight = await weightOf(page, 'login (the first page a visitor gets)');
  await d.login(page, d.users.admin);
  await page.locator('[data-project]').first().waitFor({ timeout: 120_000 });
  return { page, login: loginWeight, board: await weightOf(page, 'login, then the board') };
}

interface Render {
  readonly loadMs: number;
  readonly afterApiMs: number;
  readonly searchMs: number;
  readonly clearMs: number;
  readonly rows: number;
}

/** The board's first page of rows after a navigation, and a search that narrows it to one row. */
async function measureRender(page: Page): Promise<Render> {
  // A fresh page load, so every read of the board is in it.
  await page.goto('/');
  await page.locator('[data-project]').nth(49).waitFor({ timeout: 120_000 });
  const timing = await page.evaluate(() => {
    const timeline = performance as unknown as Timeline;
    const navigation = timeline.getEntriesByType('navigation')[0]!;
    const api = timeline
      .getEntriesByType('resource')
      .filter((entry) => new URL(entry.name).pathname.startsWith('/api/'));
    const apiDone = Math.max(...api.map((entry) => entry.responseEnd));
    return { start: navigation.startTime, apiDone, now: timeline.now() };
  });
  const rows = await page.locator('[data-project]').count();
  const search = page.getByTestId('board-search');
  const timed = async (value: string, expected: number) => {
    const started = Date.now();
    await search.fill(value);
    await waitFor(
      `${expected} rows`,
      async () => (await page.locator('[data-project]').count()) === expected,
      {
        intervalMs: 5,
      },
    );
    return Date.now() - started;
  };
  const searchMs = await timed('app-0777', 1);
  const clearMs = await timed('', rows);
  return {
    loadMs: timing.now - timing.start,
    afterApiMs: timing.now - timing.apiDone,
    searchMs,
    clearMs,
    rows,
  };
}

/** Every non-final deploy state of pushed releases: from the event's `at` to the board cell showing it. */
async function measureLive(d: DashboardStack, page: Page): Promise<number[]> {
  await page.goto('/?q=live-0000');
  const cell = page.locator(`[data-project=${live}] [data-stage=dev]`);
  await cell.waitFor();
  // The browser writes down when the cell shows each state (epoch ms, the server's clock on this machine).
  await cell.evaluate(
    (element: { querySelector(selector: string): { getAttribute(name: string): string | null } | null }) => {
      const seen: Array<{ state: string; at: number }> = [];
      (globalThis as unknown as { seen: typeof seen }).seen = seen;
      const note = () => {
        const badge = element.querySelector('[data-state]');
        const state = badge?.getAttribute('data-state');
        if (state && seen.at(-1)?.state !== state)
          seen.push({ state, at: performance.timeOrigin + performance.now() });
      };
      const Observer = (globalThis as unknown as { MutationObserver: Watcher }).MutationObserver;
      new Observer(note).observe(element, {
        subtree: true,
        childList: true,
        attributes: true,
        characterData: true,
      });
    },
  );
  // The engine's events as they happen, from the same stream the dashboard reads.
  const events: Array<{ deployId: string; to: string; at: number }> = [];
  const abort = new AbortController();
  const response = await fetch(`${d.url}/api/events`, {
    headers: { authorization: `Bearer ${d.stack.adminToken}`, accept: 'text/event-stream' },
    signal: abort.signal,
  });
  if (!response.ok || !response.body) throw new Error(`GET /api/events answered ${response.status}`);
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        const data = buffer
          .slice(0, end)
          .split('\n')
          .filter((line) => line.startsWith('data: '))
          .map((line) => line.slice(6))
          .join('\n');
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
        if (!data) continue;
        const event = JSON.parse(data) as {
          type: string;
          deployId?: string;
          project?: string;
          to?: string;
          at: string;
        };
        if (event.type === 'deploy:state-changed' && event.project === live && event.to)
          events.push({ deployId: event.deployId!, to: event.to, at: Date.parse(event.at) });
      }
    }
  })().catch(() => undefined);
  const finals = new Set(['succeeded', 'failed', 'rolled-back', 'cancelled']);
  for (let i = 1; i <= pushCount; i++) {
    const tag = `dev-${String(i).padStart(3, '0')}`;
    await d.stack.push(i % 2 ? 'v2' : 'v1', 'bench/live', tag);
    await waitFor(`${tag} to finish`, async () => {
      const { deploys } = await d.stack.api<{
        deploys: Array<{ finished: boolean; release: { tag: string } }>;
      }>(`/api/deploys?project=${live}&stage=dev&limit=1`);
      return deploys[0]?.release.tag === tag && deploys[0].finished;
    });
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  abort.abort();
  await reading;
  const seen = await page.evaluate(
    () => (globalThis as unknown as { seen: Array<{ state: string; at: number }> }).seen,
  );
  const latencies: number[] = [];
  for (const event of events) {
    if (finals.has(event.to)) continue;
    const shown = seen.find((entry) => entry.state === event.to && entry.at >= event.at - 5);
    if (shown) latencies.push(Math.max(0, shown.at - event.at));
  }
  return latencies;
}

const started = Date.now();
const d = await startDashboardStack({ projects, pollIntervalSeconds: 0, serverMode: 'child' });
let report = '';
let failed = false;
try {
  const { page, login: loginWeight, board: boardWeight } = await login(d);
  const render = await measureRender(page);
  const latencies = await measureLive(d, page);
  const p50 = quantile(latencies, 0.5);
  const p95 = quantile(latencies, 0.95);
  const weightMet = boardWeight.gzip / 1024 < weightTargetKb;
  const liveMet = latencies.length > 0 && p95 < p95TargetMs;
  failed = !weightMet || !liveMet;
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  report = [
    '# dashboard: first-page weight, board render at scale, event to board',
    '',
    '```sh',
    `node --conditions=@docker-watcher/source bench/dashboard.bench.ts${args.check ? ' --check' : ''}${args.projects !== '1000' ? ` --projects ${args.projects}` : ''}${args.pushes !== '10' ? ` --pushes ${args.pushes}` : ''}`,
    '```',
    '',
    `- Date: ${new Date().toISOString().slice(0, 16).replace('T', ', ')} UTC; took ${Math.round((Date.now() - started) / 1000)} s`,
    `- Node ${process.version}; Chromium ${d.browser.version()} (Debian, headless); ${availableParallelism()} cores (${cpu}), ${Math.round(totalmem() / 2 ** 30)} GiB`,
    `- ${projectCount} projects × 3 stages (one of them deploying for real), \`docker-watcher serve\` from source in its own process`,
    '',
    '## JavaScript and CSS',
    '',
    '| page | files | raw KB | gzip -9 KB | received KB (brotli) | target |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...[loginWeight, boardWeight].map(
      (w, i) =>
        `| ${w.page} | ${w.files} | ${kb(w.raw)} | ${kb(w.gzip)} | ${kb(w.transferred)} | ${i === 1 ? `under ${weightTargetKb} KB gzip: ${weightMet ? 'met' : '**missed**'}` : ''} |`,
    ),
    '',
    `## The board with ${projectCount} projects × 3 stages`,
    '',
    '| measure | ms |',
    '| --- | ---: |',
    `| navigation to the first ${render.rows} rows shown (page load, the API's four reads, render) | ${Math.round(render.loadMs)} |`,
    `| … of which after the last API answer (building ${projectCount} rows, filtering, rendering ${render.rows}) | ${Math.round(render.afterApiMs)} |`,
    `| a search narrowing it to 1 row (typed to shown, 150 ms of it the pause the board waits for typing to end) | ${render.searchMs} |`,
    `| clearing the search (back to ${render.rows} rows, the same pause included) | ${render.clearMs} |`,
    '',
    '## From an engine event to the board',
    '',
    `${pushCount} releases pushed to \`${live}\`'s dev stage one after the other; for each \`deploy:state-changed\` to a state`,
    "the cell shows (queued to retiring old), the time from the event's `at` (the server's clock) to the cell",
    "showing that state (the browser's clock; one machine). The board refreshes the project's row at a",
    'final state, which the cell then shows as its release.',
    '',
    '| events | p50 ms | p95 ms | max ms | target |',
    '| ---: | ---: | ---: | ---: | --- |',
    `| ${latencies.length} | ${Math.round(p50)} | ${Math.round(p95)} | ${Math.round(Math.max(...latencies))} | p95 under ${p95TargetMs} ms: ${liveMet ? 'met' : '**missed**'} |`,
    '',
  ].join('\n');
} finally {
  await d.dispose();
}
process.stdout.write(report);
if (args.check && failed) process.exit(1);
