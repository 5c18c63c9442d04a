// Facts about the workspace's packages, shared by the vitest config and the conventions check.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface WorkspacePackage {
  /** Folder relative to the workspace root, e.g. `packages/core`. */
  dir: string;
  /** Short name used as the vitest project name, e.g. `core`. */
  short: string;
  manifest: Record<string, unknown> & {
    name: string;
    private?: boolean;
    exports?: Record<string, { types?: string; import?: string } | string>;
  };
}

export function workspacePackages(): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  for (const group of ['packages', 'apps', 'examples']) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const entry of readdirSync(groupDir, { withFileTypes: true })) {
      const manifestPath = join(groupDir, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(manifestPath)) continue;
      found.push({
        dir: `${group}/${entry.name}`,
        short: group === 'examples' ? `example-${entry.name}` : entry.name,
        manifest: JSON.parse(readFileSync(manifestPath, 'utf8')),
      });
    }
  }
  return found.sort((a, b) => a.dir.localeCompare(b.dir));
}

/** `./dist/testing/index.js` -> `./src/testing/index.ts`: built entries map one-to-one onto sources. */
export function sourceOf(distPath: string): string {
  return distPath.replace(/^\.\/dist\//, './src/').replace(/\.js$/, '.ts');
}

/** Import specifiers of every package export, resolved to their source files, so tests run against source. */
export function sourceEntries(): Array<{ specifier: string; file: string }> {
  const entries: Array<{ specifier: string; file: string }> = [];
  for (const pkg of workspacePackages()) {
    for (const [subpath, target] of Object.entries(pkg.manifest.exports ?? {})) {
      const built = typeof target === 'string' ? target : target.import;
      if (!built) continue;
      entries.push({
        specifier: subpath === '.' ? pkg.manifest.name : `${pkg.manifest.name}/${subpath.slice(2)}`,
        file: join(root, pkg.dir, sourceOf(built)),
      });
    }
  }
  return entries;
}

/** Whether a package's tests use the testkit's real parts (it depends on the testkit, or is it). */
export function usesTestkit(pkg: WorkspacePackage): boolean {
  if (pkg.manifest.name === '@docker-watcher/testkit') return true;
  const deps = {
    ...(pkg.manifest.dependencies as Record<string, string> | undefined),
    ...(pkg.manifest.devDependencies as Record<string, string> | undefined),
  };
  return '@docker-watcher/testkit' in deps;
}
