// Actions through the dashboard on the real stack: what a user may do is all they are offered;
// every action asks first (typing the stage name where the config wants it); a double click acts
// once; the deploy it starts is followed live to its end; the server's refusals are shown as they are.
import { readFileSync } from 'node:fs';
import type { DeployRecord } from '@docker-watcher/core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardStack, pipelineProject, startDashboardStack } from '../../src/dashboard-stack.ts';
import { stackHealthcheck } from '../../src/stack-config.ts';
import { waitFor } from '../../src/wait-for.ts';
import { deploysOf, finished, pendingApproval } from '../support.ts';

let d: DashboardStack;

beforeAll(async () => {
  d = await startDashboardStack({
    projects: {
      shop: pipelineProject('actions/shop'),
      // One stage whose gate keeps probing a broken release for minutes: a deploy that runs (and
      // writes a line per probe) until someone cancels it.
      ops: {
        repository: 'actions/ops',
        stages: { dev: { tag_pattern: 'dev-*', auto_deploy: true } },
        healthcheck: { ...stackHealthcheck, retries: 1200 },
      },
    },
  });
  await d.stack.push('v1', 'actions/shop', 'dev-1');
  await finished(d.stack, 'shop', 'dev', 'dev-1');
});
afterAll(async () => {
  await d?.dispose();
});

const actionNames = /^(Deploy|Approve|Reject|Promote|Roll back|Pin|Unpin|Turn auto-deploy|Cancel)/;

/** Waits for the deploy page a confirmed action opened, and for its deploy to finish there. */
async function followToEnd(page: Page): Promise<string> {
  await page.waitForURL(/\/deploys\//);
  const id = decodeURIComponent(new URL(page.url()).pathname.split('/').at(-1)!);
  await expect
    .poll(() => page.getByTestId('deploy-state').textContent(), { timeout: 60_000 })
    .toMatch(/succeeded|rolled back|failed/);
  return id;
}

describe('actions', () => {
  it('offers a read-only user no action anywhere', async () => {
    const { page, problems, close } = await d.open({ user: d.users.viewer, path: '/' });
    await page.locator('[data-project=shop]').waitFor();
    const [deploy] = await deploysOf(d.stack, 'shop', 'dev');
    for (const path of [
      '/',
      '/projects/shop',
      '/projects/shop/stages/rel',
      '/approvals',
      `/deploys/${deploy!.id}`,
    ]) {
      await page.goto(path);
      await page.locator('main h1').first().waitFor();
      const buttons = await page.locator('main button').allTextContents();
      expect(
        buttons.filter((text) => actionNames.test(text.trim())),
        path,
      ).toEqual([]);
    }
    expect(problems).toEqual([]);
    await close();
  });

  it('approves rel after the stage name is typed, and follows its deploy live to the end', async () => {
    await d.stack.push('v2', 'actions/shop', 'v1.0.0');
    await pendingApproval(d.stack, 'shop', 'rel');
    const { page, close } = await d.open({ path: '/approvals' });
    await page.getByRole('button', { name: 'Approve' }).click();
    const dialog = page.getByRole('dialog');
    await expect.poll(() => dialog.getByRole('heading').textContent()).toBe('Approve v1.0.0 for shop / rel?');
    const go = dialog.getByTestId('confirm-go');
    expect(await go.isDisabled()).toBe(true);
    await dialog.getByTestId('confirm-type').fill('re');
    expect(await go.isDisabled()).toBe(true);
    await dialog.getByTestId('confirm-type').fill('rel');
    await go.click();
    // The deploy page shows the log as it is written, and follows it to the end.
    await page.waitForURL(/\/deploys\//);
    await expect.poll(() => page.getByTestId('deploy-log').textContent()).toContain('pulling');
    expect(await followToEnd(page)).toBeTruthy();
    expect(await page.getByTestId('deploy-state').textContent()).toContain('succeeded');
    await expect.poll(() => page.getByTestId('deploy-log').textContent()).toContain('v1.0.0 is live');
    const rel = await finished(d.stack, 'shop', 'rel', 'v1.0.0');
    expect(rel.state).toBe('succeeded');
    await close();
  });

  it("takes rel's digest to prod from the board: prod's approval of it, with the typed confirmation", async () => {
    // prod confirms each release, so the digest rel proved waits there for approval.
    await pendingApproval(d.stack, 'shop', 'prod');
    const { page, close } = await d.open({ path: '/' });
    const prod = page.locator('[data-project=shop] [data-stage=prod]');
    const approve = prod.getByRole('button', { name: 'Approve v1.0.0' });
    await approve.waitFor();
    // One action for that release, not also a promotion of the same digest.
    expect(await prod.getByRole('button', { name: /Promote/ }).count()).toBe(0);
    await approve.click();
    const dialog = page.getByRole('dialog');
    await expect
      .poll(() => dialog.getByRole('heading').textContent())
      .toBe('Approve v1.0.0 for shop / prod?');
    await dialog.getByTestId('confirm-type').fill('prod');
    await dialog.getByTestId('confirm-go').click();
    const id = await followToEnd(page);
    const { deploy } = await d.stack.api<{ deploy: DeployRecord }>(`/api/deploys/${id}`);
    const [rel] = (await deploysOf(d.stack, 'shop', 'rel')).filter((r) => r.state === 'succeeded');
    expect(deploy).toMatchObject({ state: 'succeeded', release: { digest: rel!.release.digest } });
    await close();
  });

  it('deploys once for a double click', async () => {
    await d.stack.push('v2', 'actions/shop', 'dev-2');
    await finished(d.stack, 'shop', 'dev', 'dev-2');
    const before = (await deploysOf(d.stack, 'shop', 'dev')).length;
    const { page, close } = await d.open({ path: '/projects/shop' });
    const dev = page.locator('section[data-stage=dev]');
    await dev.getByRole('combobox', { name: 'Tag' }).selectOption('dev-1');
    await dev.getByRole('button', { name: 'Deploy', exact: true }).dblclick();
    await page.getByRole('dialog').getByTestId('confirm-go').dblclick();
    await followToEnd(page);
    await waitFor('the deploys to settle', async () =>
      (await deploysOf(d.stack, 'shop', 'dev')).every((x) => x.finished),
    );
    expect((await deploysOf(d.stack, 'shop', 'dev')).length).toBe(before + 1);
    await close();
  });

  it("shows the server's refusal in the dialog and changes nothing on screen", async () => {
    await d.stack.push('v1', 'actions/shop', 'v1.1.0');
    const approval = await pendingApproval(d.stack, 'shop', 'rel');
    const { page, close } = await d.open({ path: '/approvals' });
    await page.locator(`[data-approval="${approval.id}"]`).getByRole('button', { name: 'Reject' }).click();
    // Someone else decides first.
    await d.stack.api(`/api/approvals/${approval.id}/reject`, { body: {} });
    await page.getByRole('dialog').getByTestId('confirm-go').click();
    const alert = page.getByRole('dialog').getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/already|not pending|decided|No approval/i);
    // The dialog stays open with its buttons usable; cancelling leaves the page as it was.
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    expect(new URL(page.url()).pathname).toBe('/approvals');
    await close();
  });
});

interface StageFacts {
  readonly actual: { readonly tag: string } | null;
  readonly autoDeploy: boolean;
  readonly pin?: string | null;
}
const opsDev = () => d.stack.api<StageFacts>('/api/projects/ops/stages/dev');
const settled = () =>
  waitFor('the deploys of ops/dev to settle', async () =>
    (await deploysOf(d.stack, 'ops', 'dev')).every((x) => x.finished),
  );

/** Confirms the open dialog (no typed name: ops/dev does not ask for one), once it asks `title`. */
async function confirmAs(page: Page, title: string | RegExp): Promise<void> {
  const dialog = page.getByRole('dialog');
  await expect.poll(() => dialog.getByRole('heading').textContent()).toMatch(title);
  await dialog.getByTestId('confirm-go').click();
  await expect.poll(() => dialog.isVisible()).toBe(false);
}

describe('stage controls', { timeout: 180_000 }, () => {
  it('pins and unpins a stage and turns auto-deploy off and on, from its card and its page, as the server then reports', async () => {
    await d.stack.push('v1', 'actions/ops', 'dev-1');
    await finished(d.stack, 'ops', 'dev', 'dev-1');
    await d.stack.push('v2', 'actions/ops', 'dev-2');
    await finished(d.stack, 'ops', 'dev', 'dev-2');
    const { page, problems, close } = await d.open({ path: '/projects/ops' });
    const card = page.locator('section[data-stage=dev]');
    const facts = () => card.locator('dl').textContent();

    await card.getByRole('button', { name: 'Turn auto-deploy off' }).click();
    await confirmAs(page, 'Turn off auto-deploy for ops / dev?');
    await expect.poll(async () => (await opsDev()).autoDeploy).toBe(false);
    await expect.poll(facts).toMatch(/Auto-deploy\s*off/);
    await card.getByRole('button', { name: 'Turn auto-deploy on' }).click();
    await confirmAs(page, 'Turn on auto-deploy for ops / dev?');
    await expect.poll(async () => (await opsDev()).autoDeploy).toBe(true);
    await expect.poll(facts).toMatch(/Auto-deploy\s*on/);

    await card.getByRole('combobox', { name: 'Tag' }).selectOption('dev-1');
    await card.getByRole('button', { name: 'Pin', exact: true }).click();
    await confirmAs(page, 'Pin ops / dev to dev-1?');
    await expect.poll(async () => (await opsDev()).pin).toBe('dev-1');
    await expect.poll(facts).toContain('pinned to dev-1');
    // Pinned to dev-1, the stage runs dev-1 again.
    await expect.poll(async () => (await opsDev()).actual?.tag, { timeout: 60_000 }).toBe('dev-1');
    await settled();

    await card.getByRole('button', { name: 'Unpin', exact: true }).click();
    await confirmAs(page, 'Unpin ops / dev?');
    await expect.poll(async () => (await opsDev()).pin).toBeFalsy();
    await expect.poll(facts).not.toContain('pinned');
    // Following its policy again, it goes back to the newest tag.
    await expect.poll(async () => (await opsDev()).actual?.tag, { timeout: 60_000 }).toBe('dev-2');
    await settled();
    // The stage page says the same.
    await page.goto('/projects/ops/stages/dev');
    await expect.poll(() => page.locator('.sub').textContent()).toContain('auto-deploy on');
    expect(await page.locator('.sub').textContent()).not.toContain('pinned');
    // And has the same controls: pin the running tag, unpin, turn auto-deploy off and on.
    await page.getByRole('button', { name: 'Pin to dev-2' }).click();
    await confirmAs(page, 'Pin ops / dev to dev-2?');
    await expect.poll(async () => (await opsDev()).pin).toBe('dev-2');
    await expect.poll(() => page.locator('.sub').textContent()).toContain('pinned to dev-2');
    await page.getByRole('button', { name: 'Unpin', exact: true }).click();
    await confirmAs(page, 'Unpin ops / dev?');
    await expect.poll(async () => (await opsDev()).pin).toBeFalsy();
    await expect.poll(() => page.locator('.sub').textContent()).not.toContain('pinned');
    await page.getByRole('button', { name: 'Turn auto-deploy off' }).click();
    await confirmAs(page, 'Turn off auto-deploy for ops / dev?');
    await expect.poll(async () => (await opsDev()).autoDeploy).toBe(false);
    await expect.poll(() => page.locator('.sub').textContent()).toContain('auto-deploy off');
    await page.getByRole('button', { name: 'Turn auto-deploy on' }).click();
    await confirmAs(page, 'Turn on auto-deploy for ops / dev?');
    await expect.poll(async () => (await opsDev()).autoDeploy).toBe(true);
    // Neither pinning the running tag nor unpinning it deployed anything.
    expect((await opsDev()).actual?.tag).toBe('dev-2');
    await settled();
    expect(problems).toEqual([]);
    await close();
  });

  it('shows what its own action changed at once, while the event stream is down', async () => {
    const { page, close } = await d.open({ path: '/' });
    // Every event stream the page opens from now on fails (it keeps trying): it knows only what it reads.
    await page.route('**/api/events**', (route) => route.abort());
    await page.goto('/projects/ops');
    const card = page.locator('section[data-stage=dev]');
    const facts = () => card.locator('dl').textContent();
    await expect.poll(facts, { timeout: 30_000 }).toMatch(/Auto-deploy\s*on/);
    await card.getByRole('button', { name: 'Turn auto-deploy off' }).click();
    await confirmAs(page, 'Turn off auto-deploy for ops / dev?');
    await expect.poll(facts).toMatch(/Auto-deploy\s*off/);
    await card.getByRole('button', { name: 'Turn auto-deploy on' }).click();
    await confirmAs(page, 'Turn on auto-deploy for ops / dev?');
    await expect.poll(facts).toMatch(/Auto-deploy\s*on/);
    expect((await opsDev()).autoDeploy).toBe(true);
    await close();
  });

  it('reads again on its own what a dropped request did not bring', async () => {
    const { page, close } = await d.open({ path: '/' });
    // The first read of dev's tags loses its connection; nothing else happens to the stage.
    const dropped: string[] = [];
    await page.route('**/api/projects/ops/stages/dev/tags**', (route) => {
      if (dropped.length > 0) return route.continue();
      dropped.push(route.request().url());
      return route.abort('connectionreset');
    });
    await page.goto('/projects/ops');
    const tag = page.locator('section[data-stage=dev]').getByRole('combobox', { name: 'Tag' });
    await expect.poll(() => tag.isEnabled(), { timeout: 30_000 }).toBe(true);
    expect(dropped).toHaveLength(1);
    await close();
  });

  it('deploys an earlier release from the stage history, then rolls back to the one before', async () => {
    const { page, close } = await d.open({ path: '/projects/ops/stages/dev' });
    const earlier = page
      .locator('section[aria-labelledby=history] tr', { hasText: 'dev-1' })
      .filter({ hasText: 'succeeded' })
      .first();
    await earlier.getByRole('button', { name: 'Roll back to this' }).click();
    await confirmAs(page, 'Deploy dev-1 to ops / dev?');
    const id = await followToEnd(page);
    const { deploy } = await d.stack.api<{ deploy: DeployRecord }>(`/api/deploys/${id}`);
    expect(deploy).toMatchObject({ state: 'succeeded', trigger: 'manual', release: { tag: 'dev-1' } });
    expect((await opsDev()).actual?.tag).toBe('dev-1');

    // The head's rollback names what it restores: dev-2, the newest success that does not run now.
    await page.goto('/projects/ops/stages/dev');
    await page.getByRole('button', { name: 'Roll back to dev-2' }).click();
    await confirmAs(page, 'Roll ops / dev back?');
    const back = await followToEnd(page);
    const rolled = (await d.stack.api<{ deploy: DeployRecord }>(`/api/deploys/${back}`)).deploy;
    expect(rolled).toMatchObject({ state: 'succeeded', trigger: 'rollback', release: { tag: 'dev-2' } });
    expect(await opsDev()).toMatchObject({ actual: { tag: 'dev-2' }, autoDeploy: false });
    await close();
  });
});

describe('the log of a running deploy, and its cancel', { timeout: 180_000 }, () => {
  let view: Awaited<ReturnType<DashboardStack['open']>>;
  let id = '';
  const log = () => view.page.getByTestId('deploy-log');
  /** How far the log's end is below what it shows, in pixels. */
  const belowView = () =>
    log().evaluate((element) => {
      const box = element as unknown as { scrollTop: number; scrollHeight: number; clientHeight: number };
      return box.scrollHeight - box.scrollTop - box.clientHeight;
    });
  /** How much taller the log is than its box. */
  const belowViewWhenTop = () =>
    log().evaluate((element) => {
      const box = element as unknown as { scrollHeight: number; clientHeight: number };
      return box.scrollHeight - box.clientHeight;
    });
  const lineCount = async () =>
    Number((await view.page.locator('.log-view .count').textContent())?.match(/of (\d+) lines/)?.[1]);

  beforeAll(async () => {
    // A broken release the gate probes for minutes; auto-deploy is off (rolled back above), so by hand.
    await d.stack.push('unhealthy', 'actions/ops', 'dev-3');
    const { deploy } = await waitFor('dev-3 deployed by hand', () =>
      d.stack
        .api<{ deploy: DeployRecord }>('/api/projects/ops/stages/dev/deploy', { body: { tag: 'dev-3' } })
        .catch(() => undefined),
    );
    id = deploy.id;
    view = await d.open({ path: `/deploys/${id}` });
    // A short window, so the log overflows its box after a few lines.
    await view.page.setViewportSize({ width: 1280, height: 420 });
  });
  afterAll(async () => {
    await view?.close();
  });

  it('follows the log until scrolled up, and again from the Follow button or scrolling down', async () => {
    // The page keeps one log stream while the deploy's record is read again after each probe: a
    // request for the log after its first opening (which may come before this listener) is the
    // browser resuming it with Last-Event-ID, never the page starting it over.
    const logRequests: (string | undefined)[] = [];
    view.page.on('request', (request) => {
      if (new URL(request.url()).pathname === `/api/deploys/${encodeURIComponent(id)}/logs`)
        logRequests.push(request.headers()['last-event-id']);
    });
    // The gate writes a line a probe: wait until they overflow the box (the failure says how far it got).
    const progress = async () => ({
      overflows: (await belowViewWhenTop()) > 150,
      lines: await lineCount(),
      state: (await d.stack.api<{ deploy: DeployRecord }>(`/api/deploys/${id}`)).deploy.state,
    });
    await expect
      .poll(progress, { timeout: 90_000 })
      .toMatchObject({ overflows: true, state: 'health-checking' });
    await expect.poll(belowView).toBeLessThan(24);
    expect(await view.page.getByTestId('log-following').isVisible()).toBe(true);

    await log().hover();
    await view.page.mouse.wheel(0, -600);
    await view.page.getByTestId('log-follow').waitFor();
    const seen = await lineCount();
    await expect.poll(lineCount, { timeout: 30_000 }).toBeGreaterThan(seen + 2);
    expect(await belowView()).toBeGreaterThan(100);

    await view.page.getByTestId('log-follow').click();
    await view.page.getByTestId('log-following').waitFor();
    const resumed = await lineCount();
    await expect.poll(lineCount, { timeout: 30_000 }).toBeGreaterThan(resumed + 2);
    await expect.poll(belowView).toBeLessThan(24);

    // The pointer is on the Follow button now: back over the log, or the wheel scrolls the page.
    await log().hover();
    await view.page.mouse.wheel(0, -600);
    await view.page.getByTestId('log-follow').waitFor();
    await view.page.mouse.wheel(0, 100_000);
    await view.page.getByTestId('log-following').waitFor();
    const again = await lineCount();
    await expect.poll(lineCount, { timeout: 30_000 }).toBeGreaterThan(again + 2);
    await expect.poll(belowView).toBeLessThan(24);
    expect(logRequests.filter((lastSeen) => lastSeen === undefined).length).toBeLessThanOrEqual(1);
  });

  it('narrows the lines to a filter and to a level', async () => {
    const shown = () => log().locator('li .text').allTextContents();
    await view.page.getByTestId('log-filter').fill('PULLING');
    await expect.poll(async () => (await shown()).length).toBeGreaterThan(0);
    expect((await shown()).every((text) => text.toLowerCase().includes('pulling'))).toBe(true);
    expect((await shown()).length).toBeLessThan(await lineCount());
    await view.page.getByTestId('log-filter').fill('no line says this');
    await expect.poll(() => log().textContent()).toContain('No line matches.');
    await view.page.getByTestId('log-filter').fill('');
    await view.page.getByRole('combobox', { name: 'Lowest level shown' }).selectOption('warn');
    await expect.poll(async () => (await shown()).length).toBeGreaterThan(0);
    const levels = await log()
      .locator('li')
      .evaluateAll((items) =>
        items.map((item) => (item as unknown as { dataset: { level?: string } }).dataset.level),
      );
    expect(levels.every((level) => level === 'warn' || level === 'error')).toBe(true);
    expect(levels.length).toBeLessThan(await lineCount());
    await view.page.getByRole('combobox', { name: 'Lowest level shown' }).selectOption('all');
    // Lines keep coming while the gate probes: both counts are read in each try.
    await expect.poll(async () => (await shown()).length === (await lineCount())).toBe(true);
  });

  it('cancels a queued deploy and the running one from their pages', async () => {
    // Queued behind the running deploy: cancelled, it never starts.
    const queued = (
      await d.stack.api<{ deploy: DeployRecord }>('/api/projects/ops/stages/dev/deploy', {
        body: { tag: 'dev-1' },
      })
    ).deploy;
    expect(queued.state).toBe('pending');
    const other = await d.open({ path: `/deploys/${queued.id}` });
    await other.page.getByRole('button', { name: 'Cancel deploy' }).click();
    await confirmAs(other.page, 'Cancel the deploy of dev-1 to ops / dev?');
    await expect.poll(() => other.page.getByTestId('deploy-state').textContent()).toContain('cancelled');
    expect((await d.stack.api<{ deploy: DeployRecord }>(`/api/deploys/${queued.id}`)).deploy.state).toBe(
      'cancelled',
    );
    await other.close();

    // Running: its step is abandoned and the old release goes on serving (a rollback, said so).
    await view.page.getByRole('button', { name: 'Cancel deploy' }).click();
    await confirmAs(view.page, 'Cancel the deploy of dev-3 to ops / dev?');
    await expect
      .poll(() => view.page.getByTestId('deploy-state').textContent(), { timeout: 60_000 })
      .toContain('rolled back');
    expect(await view.page.locator('.failure').textContent()).toMatch(/Rolled back: .*cancel/i);
    const { deploy } = await d.stack.api<{ deploy: DeployRecord }>(`/api/deploys/${id}`);
    expect(deploy).toMatchObject({ state: 'rolled-back', finished: true });
    expect(deploy.error?.message).toMatch(/cancel/i);
    expect(await view.page.getByRole('button', { name: 'Cancel deploy' }).count()).toBe(0);
    expect((await opsDev()).actual?.tag).toBe('dev-2');
  });

  it('downloads the whole log as a file', async () => {
    await expect.poll(() => view.page.locator('.log-view .count').textContent()).toContain('ended');
    const [download] = await Promise.all([
      view.page.waitForEvent('download'),
      view.page.getByRole('button', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe(`deploy-${id}.log`);
    const rows = readFileSync(await download.path(), 'utf8').split('\n');
    expect(rows.pop()).toBe('');
    const shown = await log().locator('li .text').allTextContents();
    expect(rows.length).toBe(await lineCount());
    expect(rows.map((row) => row.replace(/^\S+ (DEBUG|INFO |WARN |ERROR) /, ''))).toEqual(shown);
    expect(rows.every((row) => /^\d{4}-\d\d-\d\dT\S+Z (DEBUG|INFO |WARN |ERROR) /.test(row))).toBe(true);
    expect(rows.some((row) => / WARN {2}health probe 1 unhealthy/.test(row))).toBe(true);
    expect(view.problems).toEqual([]);
  });
});
