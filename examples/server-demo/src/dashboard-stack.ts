// The dashboard on the real stack (Docker Engine, registry, Caddy, SQLite, the reference server
// serving the real build) driven by a real Chromium: what every browser test starts from.
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { launchChromium } from '@docker-watcher/testkit';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ensureDashboardBuild } from './dashboard-build.ts';
import { type Stack, type StartStackOptions, startStack } from './stack.ts';
import type { StackProject, StackUser } from './stack-config.ts';

/** Where browser tests write their screenshots: the workspace's test output (`.cache/`). */
export const screenshotDir = join(import.meta.dirname, '../../../.cache/dashboard-screenshots');

/** The demo's three stages of one app: dev at once, rel after a click, prod promoted from rel. */
export const pipelineProject = (repository: string): StackProject => ({
  repository,
  stages: {
    dev: { tag_pattern: 'dev-*', auto_deploy: true },
    rel: { tag_pattern: 'v*', auto_deploy: true, confirm: true },
    prod: {
      tag_pattern: 'v*',
      auto_deploy: false,
      confirm: true,
      promote_from: 'rel',
      subdomain: `app-${repository.replace(/\W/g, '-')}`,
    },
  },
});

const user = (name: string, scopes: StackUser['scopes']): StackUser => ({
  name,
  password: `pw-${randomBytes(9).toString('base64url')}`,
  scopes,
});

export interface DashboardPage {
  readonly page: Page;
  readonly context: BrowserContext;
  /**
   * Console errors, page errors and CSP violations seen so far, except those of a page the boot guard
   * reloaded because its code did not arrive (it says so with a warning): that was recovered from.
   */
  readonly problems: string[];
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Logged in through the login form as this user; `null` for no login. Default: the admin. */
  readonly user?: StackUser | null;
  readonly path?: string;
  readonly colorScheme?: 'light' | 'dark';
  readonly width?: number;
  /** Another origin that reaches the server (a proxy in between); the server's own by default. */
  readonly baseUrl?: string;
  /** Runs before the first page loads (to route its requests, say). */
  readonly beforeLoad?: (page: Page) => Promise<unknown>;
}

export interface DashboardStack {
  readonly stack: Stack;
  /** The server's origin, which serves the dashboard. */
  readonly url: string;
  readonly browser: Browser;
  readonly users: { readonly admin: StackUser; readonly deployer: StackUser; readonly viewer: StackUser };
  open(options?: OpenOptions): Promise<DashboardPage>;
  /** Fills the login form and waits until it leaves the login page. */
  login(page: Page, as: StackUser): Promise<void>;
  dispose(): Promise<void>;
}

/** The boot guard's warning before it reloads a page whose code did not arrive (static/boot-guard.js). */
const guardReload = /^Docker Watcher: reloading/;

/**
 * A page's problems as they happen. Those of a document the boot guard reloads away from are dropped
 * with it, including what that document reports until the reload replaces it.
 */
function collectProblems(page: Page): string[] {
  const problems: string[] = [];
  let fromThisDocument: string[] = [];
  let reloading = false;
  const report = (problem: string) => {
    if (reloading) return;
    problems.push(problem);
    fromThisDocument.push(problem);
  };
  // A new document, not the app's own history changes: a navigation request comes first.
  let loading = false;
  page.on('request', (request) => {
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) loading = true;
  });
  page.on('framenavigated', (frame) => {
    if (frame !== page.mainFrame() || !loading) return;
    loading = false;
    fromThisDocument = [];
    reloading = false;
  });
  page.on('pageerror', (error) => report(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'warning' && guardReload.test(message.text())) {
      for (const problem of fromThisDocument) problems.splice(problems.indexOf(problem), 1);
      fromThisDocument = [];
      reloading = true;
      return;
    }
    // A refused connection while a test stops the server is the point of that test, not a fault.
    // Chromium aborts open requests when the host's interfaces change (ERR_NETWORK_CHANGED), which
    // any container starting on the shared engine does: the page retries (its code, the boot guard
    // reloads), and the tests check what it shows.
    if (
      message.type() === 'error' &&
      !/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|ERR_NETWORK_CHANGED|status of 401/.test(message.text())
    )
      report(`console: ${message.text()}`);
  });
  return problems;
}

/** Waits until the app runs (its root layout marks <html>), or says why it could not start. */
async function appStarted(page: Page): Promise<void> {
  const failed = page.getByTestId('boot-failed');
  await page
    .locator('html[data-dw-started], [data-testid=boot-failed]')
    .first()
    .waitFor({ state: 'attached', timeout: 60_000 });
  if (await failed.count()) throw new Error(`the dashboard did not start: ${await failed.textContent()}`);
}

export async function startDashboardStack(
  options: Omit<StartStackOptions, 'users'> & { readonly projects: Record<string, StackProject> },
): Promise<DashboardStack> {
  const users = {
    admin: user('ada', ['admin']),
    deployer: user('dev-lee', ['deploy']),
    viewer: user('vic', ['read']),
  };
  mkdirSync(screenshotDir, { recursive: true });
  const [launched, started] = await Promise.allSettled([
    launchChromium(),
    ensureDashboardBuild().then(() => startStack({ ...options, users: Object.values(users) })),
  ]);
  if (launched.status === 'rejected' || started.status === 'rejected') {
    if (launched.status === 'fulfilled') await launched.value.close();
    if (started.status === 'fulfilled') await started.value.dispose();
    throw launched.status === 'rejected' ? launched.reason : (started as PromiseRejectedResult).reason;
  }
  const browser = launched.value;
  const stack = started.value;
  const url = stack.server.url;
  const contexts = new Set<BrowserContext>();

  const login = async (page: Page, as: StackUser) => {
    await page.getByLabel('User name').fill(as.name);
    await page.getByLabel('Password').fill(as.password);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL((target) => target.pathname !== '/login');
  };

  return {
    stack,
    url,
    browser,
    users,
    login,
    async open(openOptions = {}) {
      const context = await browser.newContext({
        baseURL: openOptions.baseUrl ?? url,
        colorScheme: openOptions.colorScheme ?? 'light',
        viewport: { width: openOptions.width ?? 1280, height: 860 },
        reducedMotion: 'reduce',
      });
      contexts.add(context);
      const page = await context.newPage();
      const problems = collectProblems(page);
      await openOptions.beforeLoad?.(page);
      const as = openOptions.user === undefined ? users.admin : openOptions.user;
      if (as) {
        await page.goto(`/login?next=${encodeURIComponent(openOptions.path ?? '/')}`);
        await appStarted(page);
        await login(page, as);
      } else await page.goto(openOptions.path ?? '/');
      return {
        page,
        context,
        problems,
        async close() {
          contexts.delete(context);
          await context.close();
        },
      };
    },
    async dispose() {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
      await stack.dispose();
    },
  };
}
