// Packs every public package of the workspace into tarballs, as `pnpm publish` would upload them:
// from a scratch copy of the workspace (built `dist/` folders included), optionally after
// `changeset version`, so the working tree is never touched. Used by the release rehearsal and by
// anything that must check the packed packages (README code blocks against what users install).
//
//   node scripts/pack.ts <out dir> [--version]     (run `pnpm build` first)
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { root, type WorkspacePackage, workspacePackages } from './workspace.ts';

export interface PackedPackage {
  readonly name: string;
  readonly version: string;
  /** Folder of the package in the workspace, e.g. `packages/core`. */
  readonly dir: string;
  /** Absolute path of its tarball. */
  readonly tarball: string;
}

/** The packages `changeset publish` would publish: not private, not examples. */
export function publicPackages(packages: WorkspacePackage[] = workspacePackages()): WorkspacePackage[] {
  return packages.filter((pkg) => pkg.manifest.private !== true && !pkg.dir.startsWith('examples/'));
}

// What a scratch copy leaves out: tools, caches, VCS. Built dist/ folders are kept.
const skipped = new Set(['.git', '.tools', '.cache', 'coverage', '.svelte-kit']);

function copyWorkspace(into: string): void {
  cpSync(root, into, {
    recursive: true,
    // The packages' own node_modules hold only relative links (to each other, and into the root's
    // store): copied as links, they resolve in the copy, and pnpm pack reads versions through them.
    verbatimSymlinks: true,
    filter: (source) => {
      const name = source.slice(source.lastIndexOf('/') + 1);
      return source !== join(root, 'node_modules') && !skipped.has(name) && !name.endsWith('.tsbuildinfo');
    },
  });
  symlinkSync(join(root, 'node_modules'), join(into, 'node_modules'));
}

const run = (command: string, args: string[], cwd: string) =>
  execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * Packs the public packages into `out`. With `version: true`, runs `changeset version` first (in the
 * copy), so the tarballs carry the versions and changelogs a release would. Needs built packages.
 */
export function packPublicPackages(options: { out: string; version?: boolean }): PackedPackage[] {
  const packages = publicPackages();
  for (const pkg of packages) {
    if (!existsSync(join(root, pkg.dir, 'dist')))
      throw new Error(`${pkg.dir} has no dist/: run "pnpm build" before packing`);
  }
  const out = resolve(options.out);
  mkdirSync(out, { recursive: true });
  const copy = mkdtempSync(join(tmpdir(), 'dw-pack-'));
  try {
    copyWorkspace(copy);
    if (options.version) run(join(root, 'node_modules/.bin/changeset'), ['version'], copy);
    return packages.map((pkg) => {
      const before = new Set(readdirSync(out));
      run('pnpm', ['pack', '--pack-destination', out], join(copy, pkg.dir));
      const tarball = readdirSync(out).find((file) => !before.has(file) && file.endsWith('.tgz'));
      if (!tarball) throw new Error(`pnpm pack made no tarball for ${pkg.manifest.name}`);
      const manifest = JSON.parse(run('tar', ['-xOzf', join(out, tarball), 'package/package.json'], out));
      return {
        name: pkg.manifest.name,
        version: manifest.version,
        dir: pkg.dir,
        tarball: join(out, tarball),
      };
    });
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [out, flag] = process.argv.slice(2);
  if (!out || (flag !== undefined && flag !== '--version')) {
    console.error('usage: node scripts/pack.ts <out dir> [--version]');
    process.exit(2);
  }
  for (const packed of packPublicPackages({ out, version: flag === '--version' }))
    console.log(`${packed.name}@${packed.version} ${packed.tarball}`);
}
