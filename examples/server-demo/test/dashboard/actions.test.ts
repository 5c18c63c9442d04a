// Actions through the dashboard on the real stack: what a user may do is all they are offered;
// every action asks first (typing the stage name where the config wants it); a double click acts
// once; the deploy it starts is followed live to its end; the server's refusals are shown as they are.
import type { DeployRecord } from '@docker-watcher/core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardStack, pipelineProject, startDashboardStack } from '../../src/dashboard-stack.ts';
import { waitFor } from '../../src/wait-for.ts';
import { deploysOf, finished, pendingApproval } from '../support.ts';

let d: DashboardStack;

beforeAll(async () => {
  d = await startDashboardStack({ projects: { shop: pipelineProject('actions/shop') } });
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

  it("promotes rel's digest to prod from the board's arrow, with the typed confirmation", async () => {
    const { page, close } = await d.open({ path: '/' });
    const arrow = page
      .locator('[data-project=shop] [data-stage=prod]')
      .getByRole('button', { name: /Promote v1.0.0 from rel/ });
    await arrow.click();
    const dialog = page.getByRole('dialog');
    expect(await dialog.textContent()).toContain('The exact digest');
    await dialog.getByTestId('confirm-type').fill('prod');
    await dialog.getByTestId('confirm-go').click();
    const id = await followToEnd(page);
    const { deploy } = await d.stack.api<{ deploy: DeployRecord }>(`/api/deploys/${id}`);
    const [rel] = (await deploysOf(d.stack, 'shop', 'rel')).filter((r) => r.state === 'succeeded');
    expect(deploy).toMatchObject({ state: 'succeeded', trigger: 'promotion', release: rel!.release });
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
