import { cpSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'tsup';

// The dashboard's static build ships inside the package (dist/dashboard), where the server finds it.
const dashboardBuild = join(import.meta.dirname, '../dashboard/build');
const dashboardOut = join(import.meta.dirname, 'dist/dashboard');

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts', bin: 'src/bin.ts', client: 'src/client.ts' },
  format: ['esm'],
  // Stack traces point into the sources (shipped in the maps), the conformance kit's included.
  sourcemap: true,
  dts: { entry: { index: 'src/index.ts', client: 'src/client.ts' } },
  clean: true,
  target: 'node22',
  external: [/^@docker-watcher\//, 'node:sqlite'],
  removeNodeProtocol: false,
  async onSuccess() {
    if (!existsSync(join(dashboardBuild, 'index.html')))
      throw new Error(
        `the dashboard is not built (${dashboardBuild}): build it first (pnpm --filter "@docker-watcher/server..." run build does)`,
      );
    rmSync(dashboardOut, { recursive: true, force: true });
    cpSync(dashboardBuild, dashboardOut, { recursive: true });
  },
});
