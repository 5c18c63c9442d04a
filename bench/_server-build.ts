// The reference server as a user's Node runs it: `docker-watcher serve` compiled to JavaScript. The
// published package is built by tsup; here the CLI and every workspace package it imports are bundled into
// one file in a temp folder, so a benchmark measures compiled code rather than Node's type stripping.
import { join } from 'node:path';
import { build } from 'esbuild';

export const serverSource = join(import.meta.dirname, '../apps/server/src/cli.ts');

// Bundled CommonJS modules call require() and read __dirname; an ES module has neither until it is made.
const banner = [
  "import { createRequire as __dwRequire } from 'node:module';",
  "import { fileURLToPath as __dwPath } from 'node:url';",
  "import { dirname as __dwDirname } from 'node:path';",
  'const require = __dwRequire(import.meta.url);',
  'const __filename = __dwPath(import.meta.url);',
  'const __dirname = __dwDirname(__filename);',
].join(' ');

/** Bundles the server CLI into `<outDir>/cli.mjs` and returns that path. */
export async function bundleServer(outDir: string): Promise<string> {
  const outfile = join(outDir, 'cli.mjs');
  await build({
    entryPoints: [serverSource],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    conditions: ['@docker-watcher/source'],
    // dockerode's ssh transport has optional native addons (required in a try), not built here.
    external: ['cpu-features', '*.node'],
    banner: { js: banner },
    logLevel: 'error',
  });
  return outfile;
}
