// Browser tests and benchmarks run against the dashboard's real build, made here when its sources changed since the last
// one (test files may ask at the same time: one builds, the others wait for it).
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const dashboardDir = join(import.meta.dirname, '../../../apps/dashboard');
export const buildDir = join(dashboardDir, 'build');
const stampFile = join(dashboardDir, '.svelte-kit/dw-build-source-hash');
const lockDir = join(dashboardDir, '.svelte-kit/dw-build-lock');

function sourceHash(): string {
  const hash = createHash('sha256');
  const walk = (path: string) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) walk(join(path, entry));
      return;
    }
    hash.update(path).update(readFileSync(path));
  };
  for (const part of ['src', 'static', 'svelte.config.js', 'vite.config.ts', 'package.json'])
    walk(join(dashboardDir, part));
  return hash.digest('hex');
}

const fresh = (hash: string) =>
  existsSync(join(buildDir, 'index.html')) &&
  existsSync(stampFile) &&
  readFileSync(stampFile, 'utf8') === hash;

/** Builds the dashboard unless `build/` matches its sources; returns the build folder. */
export async function ensureDashboardBuild(): Promise<string> {
  const hash = sourceHash();
  if (fresh(hash)) return buildDir;
  mkdirSync(join(dashboardDir, '.svelte-kit'), { recursive: true });
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch {
      if (Date.now() > deadline)
        throw new Error(`the dashboard build lock ${lockDir} stayed taken; remove it`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      if (fresh(hash)) return buildDir;
    }
  }
  try {
    if (fresh(hash)) return buildDir;
    const vite = join(dashboardDir, 'node_modules/vite/bin/vite.js');
    await promisify(execFile)(process.execPath, [vite, 'build', '--logLevel', 'error'], {
      cwd: dashboardDir,
      // The build the server ships: vitest sets NODE_ENV=test, which would keep Svelte's development
      // code in it (about 15 KB gzip more, and not what users get).
      env: { ...process.env, NODE_ENV: 'production' },
      timeout: 170_000,
    }).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`the dashboard build failed:\n${error.stderr || error.message}`);
    });
    writeFileSync(stampFile, hash);
    return buildDir;
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}
