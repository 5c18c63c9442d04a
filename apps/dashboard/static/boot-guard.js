// @ts-check
// Runs before the app. When the browser could not fetch part of the app's code (a connection dropped
// while the page loaded, or the server restarted onto a new build and the old chunks are gone), the
// page would stay blank or show a bare error. This reloads it instead, at most twice in two minutes.
// After that, a page whose app never started (`data-dw-started` on <html>, set by the root layout)
// says what happened and offers a reload; a started app shows the failed route's error page.
(() => {
  const key = 'dw-boot-reloads';
  const windowMs = 120_000;
  const maxReloads = 2;
  const missingCode =
    /dynamically imported module|Importing a module script failed|error loading dynamically imported module|Unable to preload/i;
  let recovering = false;

  /** @returns {{ count: number, since: number }} */
  const recent = () => {
    try {
      const saved = JSON.parse(sessionStorage.getItem(key) ?? 'null');
      if (saved && typeof saved.count === 'number' && Date.now() - saved.since < windowMs) return saved;
    } catch {
      // No storage (or an unreadable entry): count from zero.
    }
    return { count: 0, since: Date.now() };
  };

  /** @param {string} reason */
  const giveUp = (reason) => {
    // biome-ignore lint/suspicious/noConsole: the browser's console is where a page says what went wrong
    console.error(`Docker Watcher: the dashboard could not load its code (${reason})`);
    const main = document.createElement('main');
    main.setAttribute('role', 'alert');
    main.dataset.testid = 'boot-failed';
    const title = document.createElement('h1');
    title.textContent = 'The dashboard could not load';
    const text = document.createElement('p');
    text.textContent = `Part of its code did not arrive (${reason}). Check that the Docker Watcher server is reachable, then reload.`;
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = 'Reload';
    button.addEventListener('click', () => location.reload());
    main.append(title, text, button);
    // Through the CSSOM (the page's CSP allows no style attributes); the app's stylesheet may be gone.
    main.style.cssText =
      'font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 15vh auto; padding: 0 20px';
    title.style.cssText = 'font-size: 1.5rem; margin: 0 0 8px';
    text.style.cssText = 'overflow-wrap: anywhere';
    button.style.cssText = 'font: inherit; padding: 6px 16px; cursor: pointer';
    const show = () => {
      if (document.body.contains(main)) return;
      document.title = 'Could not load · Docker Watcher';
      document.documentElement.style.colorScheme = 'light dark';
      document.body.replaceChildren(main);
    };
    show();
    // SvelteKit's own fallback replaces the page's body with its bare error page after this: ours stays.
    new MutationObserver(show).observe(document.documentElement, { childList: true });
  };

  /**
   * @param {unknown} problem
   * @param {string | null} [to] where a navigation that lost its code was going: recovered there
   */
  const recover = (problem, to = null) => {
    const reason = String(problem instanceof Error ? problem.message : problem);
    if (recovering || !missingCode.test(reason)) return false;
    const seen = recent();
    if (seen.count >= maxReloads) {
      if (document.documentElement.hasAttribute('data-dw-started')) return false;
      recovering = true;
      giveUp(reason);
      return true;
    }
    recovering = true;
    try {
      sessionStorage.setItem(key, JSON.stringify({ count: seen.count + 1, since: seen.since }));
    } catch {
      // Without storage the count cannot survive the reload: say it now rather than loop.
      if (document.documentElement.hasAttribute('data-dw-started')) return false;
      giveUp(reason);
      return true;
    }
    // biome-ignore lint/suspicious/noConsole: the browser's console is where a page says why it reloads
    console.warn(`Docker Watcher: reloading, the dashboard's code did not load (${reason})`);
    if (to && to !== location.href) location.assign(to);
    else location.reload();
    return true;
  };

  const started = () => document.documentElement.hasAttribute('data-dw-started');

  // Until the app runs: the boot script's own imports and its first route's, which reject unhandled
  // when they fail, and Vite's preloads of their chunks. Once it runs, SvelteKit catches what its
  // navigations and preloads lose, and says so through the app's error hook (below).
  addEventListener('unhandledrejection', (event) => {
    if (!started() && recover(event.reason)) event.preventDefault();
  });
  addEventListener('error', (event) => {
    if (!started() && recover(event.error ?? event.message)) event.preventDefault();
  });
  addEventListener('vite:preloadError', (event) => {
    if (started()) return;
    if (recover(/** @type {Event & { payload?: unknown }} */ (event).payload ?? 'Unable to preload'))
      event.preventDefault();
  });
  // A route's code SvelteKit could not fetch (apps/dashboard/src/hooks.client.ts): during a navigation
  // the page goes where the user was going; a hover preload's loss waits for that navigation.
  addEventListener('dw:code-missing', (event) => {
    const { message, to } = /** @type {CustomEvent<{ message: string, to: string | null }>} */ (event).detail;
    if (to === null && started()) return;
    recover(message, to);
  });
})();
