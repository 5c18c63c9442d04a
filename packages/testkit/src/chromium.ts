import type { Browser } from 'playwright-core';
import { ensureDebianPackage } from './debian-packages.ts';

/** Debian's Chromium; Playwright's own browser download cannot be reached from these machines. */
export const defaultChromiumBinary = '/usr/bin/chromium';

/**
 * Flags for headless Chromium on these machines: no sandbox (root), no GPU, and none of Chromium's
 * own connections (updates, sync, QUIC probes), which the closed network would refuse anyway.
 */
export const chromiumArgs: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Makes sure Debian's `chromium` is installed (with apt-get, as root), like Caddy. */
export function ensureChromium(binary = defaultChromiumBinary): Promise<string> {
  return ensureDebianPackage('chromium', binary);
}

export interface LaunchChromiumOptions {
  /** The Chromium binary; Debian's `chromium` is installed (as root) when it is missing. */
  readonly binary?: string;
}

/** Headless Chromium driven by playwright-core. Close it with `browser.close()`. */
export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<Browser> {
  const executablePath = await ensureChromium(options.binary);
  // Loaded here, not at the top: the global setup imports this file only to install Chromium.
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath, headless: true, args: [...chromiumArgs] });
}
