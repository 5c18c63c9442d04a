// The dashboard's login on the real server: session cookie, `?next=` return, wrong passwords, the
// 429 countdown, and an ended session sending the user to the login and back.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DashboardStack, pipelineProject, startDashboardStack } from '../../src/dashboard-stack.ts';
import { accessibilityProblems, screenshots } from './page-checks.ts';

let d: DashboardStack;

beforeAll(async () => {
  d = await startDashboardStack({
    projects: { shop: pipelineProject('login/shop') },
    // Three failures block for three seconds: the countdown test waits it out. A session ends after a
    // minute without a request, inside the two minutes the dashboard warns before the end.
    session: { login_max_failures: 3, login_window_seconds: 3, idle_timeout_seconds: 60 },
  });
});
afterAll(async () => {
  await d?.dispose();
});

describe('login', () => {
  it('logs in and returns to the page asked for', async () => {
    const { page, problems, close } = await d.open({ user: null, path: '/approvals' });
    await page.waitForURL(/\/login\?next=%2Fapprovals$/);
    await expect.poll(() => page.getByRole('heading', { name: 'Docker Watcher' }).isVisible()).toBe(true);
    await screenshots(page, 'login');
    expect(await accessibilityProblems(page)).toEqual([]);
    await d.login(page, d.users.admin);
    expect(new URL(page.url()).pathname).toBe('/approvals');
    const cookies = await page.context().cookies();
    expect(cookies.find((c) => c.name === 'dw_session')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });
    expect(problems).toEqual([]);
    await close();
  });

  it("shows the server's message for a wrong password, and a countdown when it is rate limited", async () => {
    const { page, close } = await d.open({ user: null, path: '/login' });
    for (let i = 0; i < 3; i++) {
      await page.getByLabel('User name').fill('mallory');
      await page.getByLabel('Password').fill(`guess-${i}`);
      await page.getByRole('button', { name: 'Log in' }).click();
      await expect.poll(() => page.getByRole('alert').textContent()).toContain('Wrong user name or password');
    }
    await page.getByRole('button', { name: 'Log in' }).click();
    const wait = page.getByTestId('login-wait');
    await expect.poll(() => wait.isVisible()).toBe(true);
    expect(Number(await wait.locator('strong').textContent())).toBeGreaterThan(0);
    expect(await page.getByRole('button', { name: 'Log in' }).isDisabled()).toBe(true);
    // Once it ran out, the right password gets in.
    await expect.poll(() => wait.isVisible(), { timeout: 10_000 }).toBe(false);
    await d.login(page, d.users.admin);
    expect(new URL(page.url()).pathname).toBe('/');
    await close();
  });

  it('warns before the session ends without activity, and "Stay signed in" keeps it', async () => {
    const { page, close } = await d.open({ path: '/settings' });
    const warning = page.getByTestId('session-warning');
    await expect.poll(() => warning.isVisible()).toBe(true);
    const secondsLeft = async () => {
      const [minutes, seconds] = (await warning.locator('.mono').textContent())!.split(':').map(Number);
      return minutes! * 60 + seconds!;
    };
    // Nothing is asked of the server meanwhile: the countdown runs down.
    await expect.poll(secondsLeft, { timeout: 10_000 }).toBeLessThanOrEqual(56);
    await warning.getByRole('button', { name: 'Stay signed in' }).click();
    await expect.poll(secondsLeft, { timeout: 5_000 }).toBeGreaterThanOrEqual(58);
    await close();
  });

  it('sends an ended session to the login with a message, and back to the same page after it', async () => {
    const { page, context, close } = await d.open({ path: '/' });
    await page.locator('[data-project=shop]').waitFor();
    // The server no longer knows the cookie (as after a restart, or a session that ran out).
    const [cookie] = (await context.cookies()).filter((c) => c.name === 'dw_session');
    await context.addCookies([{ ...cookie!, value: 'ended-session-0123456789' }]);
    // The project page reads the API, which answers 401.
    await page.getByRole('link', { name: 'shop', exact: true }).click();
    await page.waitForURL(/\/login\?next=/);
    const next = new URL(page.url()).searchParams.get('next');
    expect(next).toBe('/projects/shop');
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('log in again');
    await d.login(page, d.users.admin);
    expect(new URL(page.url()).pathname).toBe('/projects/shop');
    await close();
  });
});

// A connection that drops while the page loads (Chromium aborts requests when the host's interfaces
// change), a server that was unreachable for a moment, or one restarted onto a new build, costs the
// page part of its code: the boot guard (apps/dashboard/static/boot-guard.js) reloads it, and says so
// when reloading does not help.
describe('a page whose code did not arrive', () => {
  /** Refuses the first `times` requests for the build's files whose path matches. */
  const dropCode = (pattern: RegExp, times: number) => {
    const dropped: string[] = [];
    return {
      dropped,
      beforeLoad: (page: Page) =>
        page.route(
          (url) => pattern.test(url.pathname),
          (route) => {
            if (dropped.length >= times) return route.continue();
            dropped.push(new URL(route.request().url()).pathname);
            return route.abort('connectionrefused');
          },
        ),
    };
  };

  for (const [what, pattern] of [
    ["the boot script's own entry", /^\/_app\/immutable\/entry\/start\./],
    ["the root layout's route code", /^\/_app\/immutable\/nodes\/0\./],
  ] as const) {
    it(`reloads itself once when ${what} is lost, and the app starts`, async () => {
      const drop = dropCode(pattern, 1);
      const { page, problems, close } = await d.open({
        user: null,
        path: '/login',
        beforeLoad: drop.beforeLoad,
      });
      await page.getByLabel('User name').waitFor();
      expect(drop.dropped).toHaveLength(1);
      await d.login(page, d.users.admin);
      await page.locator('[data-project=shop]').waitFor();
      // The failed first load's errors went with it.
      expect(problems).toEqual([]);
      await close();
    });
  }

  it("goes where the user was going when the next page's code is lost on the way", async () => {
    const { page, problems, close } = await d.open({ path: '/' });
    await page.locator('[data-project=shop]').waitFor();
    // The project page's route code (the hover's preload fetches it first) is refused once.
    const drop = dropCode(/^\/_app\/immutable\/nodes\//, 1);
    await drop.beforeLoad(page);
    await page.locator('[data-project=shop] h2 a').click();
    await page.waitForURL(/\/projects\/shop$/);
    await page.locator('section[data-stage=dev]').waitFor();
    expect(drop.dropped).toHaveLength(1);
    // Nothing was pushed to this stack's repository, so its stages' tag lists are 404s.
    expect(problems.filter((problem) => !/status of 404/.test(problem))).toEqual([]);
    await close();
  });

  it('says so after two reloads that did not help, and its Reload button tries again', async () => {
    const drop = dropCode(/^\/_app\/immutable\/nodes\/0\./, 3);
    const { page, problems, close } = await d.open({
      user: null,
      path: '/login',
      beforeLoad: drop.beforeLoad,
    });
    const failed = page.getByTestId('boot-failed');
    await failed.waitFor();
    expect(drop.dropped).toHaveLength(3);
    expect(await failed.getByRole('heading').textContent()).toBe('The dashboard could not load');
    expect(await failed.textContent()).toContain('Check that the Docker Watcher server is reachable');
    await screenshots(page, 'boot-failed');
    expect(problems).toContainEqual(
      expect.stringMatching(/^console: Docker Watcher: the dashboard could not load its code \(.*nodes\/0\./),
    );
    // The code arrives again (the drops are used up): the button brings the app.
    await failed.getByRole('button', { name: 'Reload' }).click();
    await page.getByLabel('User name').waitFor();
    await close();
  });
});
