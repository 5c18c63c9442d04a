// The dashboard stays live on the real stack: pushes, deploys, rollbacks and approvals appear without
// a reload through the one event stream, the health gate's probes show as they happen, and the stream
// comes back after the server was unreachable or restarted.
import { createServer, type Server, Socket } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardStack, pipelineProject, startDashboardStack } from '../../src/dashboard-stack.ts';
import { waitFor } from '../../src/wait-for.ts';
import { finished } from '../support.ts';

/** A TCP proxy to the server that a test can cut and restore: "the server is unreachable". */
interface Cuttable {
  readonly url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

async function cuttableProxy(target: number): Promise<Cuttable> {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer((client) => {
        const upstream = new Socket();
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => socket.destroy());
        }
        upstream.connect(target, '127.0.0.1');
        client.pipe(upstream).pipe(client);
      });
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        server = next;
        const address = next.address();
        if (typeof address === 'object' && address) port = address.port;
        resolve();
      });
    });
  const stop = async () => {
    const current = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (current) await new Promise((resolve) => current.close(resolve));
  };
  await listen();
  return { url: `http://127.0.0.1:${port}`, cut: stop, restore: listen, close: stop };
}

let d: DashboardStack;
let proxy: Cuttable;

beforeAll(async () => {
  d = await startDashboardStack({ projects: { shop: pipelineProject('live/shop') }, serverMode: 'child' });
  proxy = await cuttableProxy(d.stack.server.port);
});
afterAll(async () => {
  await proxy?.close();
  await d?.dispose();
});

/** Marks the page, so a test can tell it was never reloaded. */
const mark = (page: Page) => page.evaluate(() => Object.assign(globalThis, { dwNotReloaded: true }));
const notReloaded = (page: Page) =>
  page.evaluate(() => (globalThis as { dwNotReloaded?: boolean }).dwNotReloaded);
const cell = (page: Page, stage: string) => page.locator(`[data-project=shop] [data-stage=${stage}]`);

// Each test waits on real deploys (up to a minute apiece on a loaded machine).
describe('live', { timeout: 180_000 }, () => {
  it('shows a push reaching dev without a reload, its deploy states as they happen', async () => {
    const { page, problems, close } = await d.open({ path: '/' });
    await cell(page, 'dev').waitFor();
    await mark(page);
    const states = page.evaluate(
      () =>
        new Promise<string[]>((resolve) => {
          const seen: string[] = [];
          const scope = globalThis as unknown as {
            document: { querySelector(s: string): { getAttribute(n: string): string | null } | null };
            MutationObserver: new (
              cb: () => void,
            ) => { observe(t: unknown, o: object): void; disconnect(): void };
          };
          const observer = new scope.MutationObserver(() => {
            const state = scope.document
              .querySelector('[data-project=shop] [data-stage=dev] [data-state]')
              ?.getAttribute('data-state');
            if (state && seen.at(-1) !== state) seen.push(state);
            if (state === 'retiring-old' || (seen.length > 0 && !state)) {
              observer.disconnect();
              resolve(seen);
            }
          });
          observer.observe(scope.document, { subtree: true, childList: true, attributes: true });
        }),
    );
    const pushed = await d.stack.push('v1', 'live/shop', 'dev-1');
    await expect.poll(() => cell(page, 'dev').textContent(), { timeout: 60_000 }).toContain('dev-1');
    await expect
      .poll(() => cell(page, 'dev').locator('.chip').getAttribute('title'), { timeout: 60_000 })
      .toBe(pushed.digest);
    // At least the steps between the queue and the switch showed up while the deploy ran.
    expect(await states).toEqual(expect.arrayContaining(['pulling', 'health-checking']));
    expect(await notReloaded(page)).toBe(true);
    expect(problems).toEqual([]);
    await close();
  });

  it('shows a broken push rolled back and why, and a release waiting for approval, without a reload', async () => {
    await finished(d.stack, 'shop', 'dev', 'dev-1');
    const { page, close } = await d.open({ path: '/' });
    await cell(page, 'dev').waitFor();
    await mark(page);
    await d.stack.push('unhealthy', 'live/shop', 'dev-2');
    await expect
      .poll(() => cell(page, 'dev').getAttribute('data-attention'), { timeout: 60_000 })
      .toBe('rolled-back');
    expect(await cell(page, 'dev').textContent()).toMatch(/dev-2 rolled back: .*health/);
    // dev-1 still runs there.
    expect(await cell(page, 'dev').locator('.tag').first().textContent()).toBe('dev-1');

    await d.stack.push('v2', 'live/shop', 'v1.0.0');
    await expect.poll(() => page.getByTestId('pending-count').textContent(), { timeout: 60_000 }).toBe('1');
    expect(await cell(page, 'rel').textContent()).toContain('v1.0.0 waits for approval');
    expect(await notReloaded(page)).toBe(true);
    await close();
  });

  it("shows the health gate's probes on the deploy page as they happen", async () => {
    const { page, close } = await d.open({ path: '/' });
    await cell(page, 'dev').waitFor();
    // The same broken image as dev-2: the engine does not retry a release that failed there on its
    // own, so a person deploys it (once the registry has the tag).
    await d.stack.push('unhealthy', 'live/shop', 'dev-3');
    await waitFor('dev-3 deployed by hand', () =>
      d.stack.api('/api/projects/shop/stages/dev/deploy', { body: { tag: 'dev-3' } }).then(
        () => true,
        () => false,
      ),
    );
    // The cell's live state links to the deploy.
    const live = cell(page, 'dev').locator('a', { has: page.locator('[data-state]') });
    await expect.poll(() => live.textContent(), { timeout: 60_000 }).toContain('dev-3');
    await live.click();
    await page.waitForURL(/\/deploys\//);
    const probes = page.getByTestId('health-probes');
    await expect.poll(() => probes.locator('li').count(), { timeout: 60_000 }).toBeGreaterThan(1);
    expect(await probes.textContent()).toContain('unhealthy');
    expect(await probes.textContent()).toContain('HTTP 404');
    await expect
      .poll(() => page.getByTestId('deploy-state').textContent(), { timeout: 60_000 })
      .toContain('rolled back');
    const seen = await probes.locator('li').count();
    const deployPath = new URL(page.url()).pathname;
    // Back to the board and in again: every probe happened before, the shared stream kept them.
    await page.goBack();
    await live.click();
    await page.waitForURL((url) => url.pathname === deployPath);
    await expect.poll(() => probes.locator('li').count(), { timeout: 10_000 }).toBe(seen);
    // Opened afresh once it ended, the page says where its probes are instead of promising them.
    const again = await d.open({ path: deployPath });
    await again.page.getByTestId('deploy-state').waitFor();
    expect(await again.page.locator('section[aria-labelledby=gate]').textContent()).toContain(
      'Its probes ran before this page opened',
    );
    await again.close();
    await close();
  });

  it('shows a banner while the server is unreachable, and the stream reconnects when it is back', async () => {
    await finished(d.stack, 'shop', 'dev', 'dev-3');
    const { page, close } = await d.open({ path: '/', baseUrl: proxy.url });
    await cell(page, 'dev').waitFor();
    await expect.poll(() => page.locator('.stream').getAttribute('data-live')).toBe('true');
    await mark(page);
    await proxy.cut();
    await expect.poll(() => page.getByTestId('unreachable').isVisible(), { timeout: 30_000 }).toBe(true);
    await proxy.restore();
    await expect.poll(() => page.getByTestId('unreachable').isVisible(), { timeout: 30_000 }).toBe(false);
    // Live again: a new push shows up.
    await d.stack.push('v2', 'live/shop', 'dev-4');
    await expect
      .poll(() => cell(page, 'dev').locator('.tag').first().textContent(), { timeout: 60_000 })
      .toBe('dev-4');
    expect(await notReloaded(page)).toBe(true);
    await close();
  });

  it('reconnects the stream after the server restarted mid-session (whose sessions ended with it)', async () => {
    await finished(d.stack, 'shop', 'dev', 'dev-4');
    const { page, close } = await d.open({ path: '/projects/shop' });
    await page.locator('section[data-stage=dev]').waitFor();
    await d.stack.server.stop();
    await expect.poll(() => page.getByTestId('unreachable').isVisible(), { timeout: 30_000 }).toBe(true);
    await d.stack.server.start();
    // Sessions live in the server's memory: back to the login, then to the same page, live again.
    await page.waitForURL(/\/login\?next=%2Fprojects%2Fshop/, { timeout: 60_000 });
    await d.login(page, d.users.admin);
    expect(new URL(page.url()).pathname).toBe('/projects/shop');
    await expect
      .poll(() => page.locator('.stream').getAttribute('data-live'), { timeout: 30_000 })
      .toBe('true');
    await d.stack.push('v1', 'live/shop', 'dev-5');
    await expect
      .poll(() => page.locator('section[data-stage=dev] dd').first().textContent(), { timeout: 60_000 })
      .toContain('dev-5');
    await close();
  });
});
