// The reference server as a user's Node runs it: `docker-watcher serve` compiled to JavaScript. The
// published package is built by tsup; here the CLI and every workspace package it imports are bundled into
// one file in a temp folder, so a benchmark measures compiled code rather than Node's type stripping.
import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BuildOptions, build } from 'esbuild';

export const serverSource = join(import.meta.dirname, '../apps/server/src/cli.ts');
/** The `docker-watcher` command as installed (the image runs it with `launcherNodeOptions`). */
/** The V8 options the image's `docker-watcher` command starts Node with (`apps/server/Dockerfile`). */
export function launcherNodeOptions(): string[] {
  const dockerfile = readFileSync(join(import.meta.dirname, '../apps/server/Dockerfile'), 'utf8');
  const options = /exec node ((?:--[\w-]+(?:=\S+)? )+)\/app\/dist\/bin\.js/.exec(dockerfile)?.[1];
  if (!options)
    throw new Error(
      "apps/server/Dockerfile: the docker-watcher command's Node options are not where the bench looks",
    );
  return options.trim().split(' ');
}
export const launcherSource = join(import.meta.dirname, '../apps/server/src/bin.ts');

// Bundled CommonJS modules call require() and read __dirname; an ES module has neither until it is made.
const banner = [
  "import { createRequire as __dwRequire } from 'node:module';",
  "import { fileURLToPath as __dwPath } from 'node:url';",
  "import { dirname as __dwDirname } from 'node:path';",
  'const require = __dwRequire(import.meta.url);',
  'const __filename = __dwPath(import.meta.url);',
  'const __dirname = __dwDirname(__filename);',
].join(' ');

const common: BuildOptions = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  conditions: ['@docker-watcher/source'],
  // dockerode's ssh transport has optional native addons (required in a try), not built here.
  external: ['cpu-features', '*.node'],
  banner: { js: banner },
  logLevel: 'error',
};

/** Bundles the server CLI into `<outDir>/cli.mjs` and returns that path. */
export async function bundleServer(outDir: string): Promise<string> {
  const outfile = join(outDir, 'cli.mjs');
  await build({ ...common, entryPoints: [serverSource], outfile });
  return outfile;
}

/**
 * Bundles the `docker-watcher` launcher (`bin.ts`) into `<outDir>/bin.mjs`, executable, with code
 * splitting: what the launcher imports lazily (an adapter the config does not name, `docker-watcher
 * plan`'s code) stays in chunks that are never read, as with the published packages, where each is its
 * own module. The image runs it as `node <launcherNodeOptions> bin.mjs`.
 */
export async function bundleLauncher(outDir: string): Promise<string> {
  await build({
    ...common,
    entryPoints: { bin: launcherSource },
    outdir: outDir,
    splitting: true,
    outExtension: { '.js': '.mjs' },
  });
  const entry = join(outDir, 'bin.mjs');
  chmodSync(entry, 0o755);
  return entry;
}
