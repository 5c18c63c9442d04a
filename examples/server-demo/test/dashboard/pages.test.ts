// Every page of the dashboard on the real stack: it shows what the server knows, in both themes and
// on a 360 px screen (screenshots under .cache/dashboard-screenshots), with no serious or critical
// accessibility violation, no console error and no CSP violation.
import type { DeployRecord } from '@docker-watcher/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardStack, pipelineProject, startDashboardStack } from '../../src/dashboard-stack.ts';
import { accessibilityProblems, screenshots } from './page-checks.ts';
import { tellStory } from './story.ts';

let d: DashboardStack;
let rolledBack: DeployRecord;

beforeAll(async () => {
  d = await startDashboardStack({
    projects: {
      shop: pipelineProject('story/shop'),
      blog: {
        repository: 'story/blog',
        stages: {
          dev: { tag_pattern: 'dev-*', auto_deploy: true },
          prod: { tag_pattern: 'v*', auto_deploy: false },
        },
      },
    },
  });
  ({ rolledBack } = await tellStory(d.stack));
});
afterAll(async () => {
  await d?.dispose();
});

/** Opens a page as the admin, waits for `ready` to show, then checks and photographs it. */
async function checkPage(path: string, name: string, ready: string) {
  const { page, problems, close } = await d.open({ path });
  await page.getByText(ready, { exact: false }).first().waitFor();
  await screenshots(page, name);
  expect(await accessibilityProblems(page), `${name}: accessibility`).toEqual([]);
  expect(problems, `${name}: console`).toEqual([]);
  return { page, close };
}

describe('every page', () => {
  it('board: a row per project, a cell per stage, with what runs and what needs a person', async () => {
    const { page, close } = await checkPage('/', 'board', 'Pipeline');
    const shop = page.locator('[data-project=shop]');
    await expect.poll(() => shop.locator('[data-stage=dev]').textContent()).toContain('dev-1');
    expect(await shop.locator('[data-stage=rel]').textContent()).toContain('v1.1.0 waits for approval');
    // prod's approval waits for the digest rel proved: approving it is the one action offered.
    const prod = shop.locator('[data-stage=prod]');
    expect(await prod.getByRole('button', { name: 'Approve v1.0.0' }).count()).toBe(1);
    expect(await prod.getByRole('button', { name: /Promote/ }).count()).toBe(0);
    const blogDev = page.locator('[data-project=blog] [data-stage=dev]');
    expect(await blogDev.getAttribute('data-attention')).toBe('rolled-back');
    expect(await blogDev.textContent()).toContain('dev-2 rolled back');
    // Stages running the same digest share a colour: blog/dev and shop/dev both run dev-1 (v1's image),
    // but colours count per project; shop's dev and rel run different digests.
    const colours = await shop
      .locator('.chip')
      .evaluateAll((chips) => chips.map((c) => c.getAttribute('data-colour')));
    expect(new Set(colours).size).toBe(2);
    // rel's v1.1.0, and prod's v1.0.0 (a confirmed stage asks even with auto-deploy off).
    expect(await page.getByTestId('pending-count').textContent()).toBe('2');
    await close();
  });

  it('board filters: search by tag and digest, needs attention, kept in the URL', async () => {
    const { page, close } = await d.open({ path: '/' });
    await page.getByTestId('board-search').fill('dev-2');
    await page.waitForURL(/\?q=dev-2$/);
    await expect.poll(() => page.locator('[data-project]').count()).toBe(1);
    expect(await page.locator('[data-project=blog]').count()).toBe(1);
    await page.getByTestId('board-search').fill(rolledBack.release.digest.slice(7, 19));
    await expect.poll(() => page.locator('[data-project]').count()).toBe(1);
    await page.getByTestId('board-search').fill('');
    await page.getByTestId('attention-filter').click();
    await page.waitForURL(/\?attention=1$/);
    await expect.poll(() => page.locator('[data-project]').count()).toBe(2);
    // A reload keeps the filter.
    await page.reload();
    expect(await page.getByTestId('attention-filter').getAttribute('aria-pressed')).toBe('true');
    await close();
  });

  it('project: a card per stage with its actions and recent deploys', async () => {
    const { page, close } = await checkPage('/projects/shop', 'project', 'Recent deploys');
    const rel = page.locator('section[data-stage=rel]');
    await expect.poll(() => rel.getByRole('button', { name: 'Roll back to v1.0.0' }).count()).toBe(0);
    expect(
      await page.locator('section[data-stage=prod]').getByRole('button', { name: 'Promote' }).isEnabled(),
    ).toBe(true);
    await close();
  });

  it('stage: actual and desired with reasons, approvals in place, deploy history', async () => {
    const { page, close } = await checkPage('/projects/shop/stages/rel', 'stage', 'Deploy history');
    expect(await page.getByRole('button', { name: 'Approve' }).count()).toBe(1);
    expect(await page.locator('table').textContent()).toContain('v1.0.0');
    await close();
  });

  it('deploy: release, previous, steps, and the log to its end', async () => {
    const { page, close } = await checkPage(`/deploys/${rolledBack.id}`, 'deploy', 'Steps');
    expect(await page.getByTestId('deploy-state').textContent()).toContain('rolled back');
    await expect.poll(() => page.getByTestId('deploy-log').textContent()).toContain('rolling back');
    expect(await page.getByRole('status').first().textContent()).toContain('dev-1 serves again');
    await close();
  });

  it('approvals: what waits, from what to what, with approve and reject', async () => {
    const { page, close } = await checkPage('/approvals', 'approvals', 'waiting');
    const items = await page.locator('[data-approval]').allTextContents();
    expect(items).toHaveLength(2);
    expect(items.find((text) => text.includes('/ rel'))).toContain('v1.1.0');
    // prod asks for the release rel proved, and says so.
    expect(items.find((text) => text.includes('/ prod'))).toMatch(/v1\.0\.0[\s\S]*in rel/);
    await close();
  });

  it('settings: the server, users and tokens (never a secret), registries with their webhook URL, every stage', async () => {
    const { page, close } = await checkPage('/settings', 'settings', 'Stages');
    const section = (name: string) => page.locator('section', { has: page.getByRole('heading', { name }) });
    await expect.poll(() => section('Server').textContent()).toContain('sqlite');
    const people = await section('Users and tokens').textContent();
    for (const name of ['ada', 'dev-lee', 'vic', 'admin']) expect(people).toContain(name);
    expect(people).not.toContain(d.stack.adminToken);
    expect(people).not.toContain('$2');
    expect(await section('Registries').textContent()).toContain(
      `${d.url}/api/webhook/registry?registry=local`,
    );
    expect(await section('Stages').textContent()).toContain('app-story-shop');
    expect(await page.content()).not.toContain(d.stack.webhookSecret);
    await close();
  });

  it('a project, deploy or page that does not exist is a not-found page, not a blank one', async () => {
    for (const [path, text] of [
      ['/projects/nope', 'No project nope'],
      ['/projects/shop/stages/nope', 'No stage shop / nope'],
      ['/deploys/nope', 'No deploy nope'],
      ['/no/such/page', 'No such page'],
    ] as const) {
      const { page, close } = await d.open({ path });
      await page.getByRole('heading', { name: text }).waitFor();
      expect(await page.getByRole('link', { name: 'Back to the board' }).count()).toBe(1);
      await close();
    }
    const { page, close } = await checkPage('/projects/nope', 'not-found', 'No project');
    await page.close();
    await close();
  });
});
