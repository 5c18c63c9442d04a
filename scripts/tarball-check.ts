// What a packed package must hold, and must not: checked on every tarball of the release rehearsal.
import { execFileSync } from 'node:child_process';

interface PackedManifest {
  exports?: Record<string, string | Record<string, string>>;
  bin?: Record<string, string> | string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const always = new Set(['LICENSE', 'README.md', 'package.json', 'CHANGELOG.md']);

/** Problems of a package's packed files (paths without `package/`) and packed manifest; empty when fine. */
export function contentProblems(files: readonly string[], manifest: PackedManifest): string[] {
  const problems: string[] = [];
  const has = new Set(files);
  const file = (target: string) => target.replace(/^\.\//, '');
  for (const name of ['LICENSE', 'README.md']) if (!has.has(name)) problems.push(`has no ${name}`);
  for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
    const conditions = typeof target === 'string' ? { import: target } : target;
    for (const condition of ['types', 'import'] as const) {
      const path = conditions[condition];
      if (!path) problems.push(`exports["${subpath}"] has no "${condition}"`);
      else if (!has.has(file(path)))
        problems.push(`exports["${subpath}"].${condition} is not packed: ${path}`);
    }
    if (conditions.import && !has.has(`${file(conditions.import)}.map`))
      problems.push(`exports["${subpath}"] ships no source map (${conditions.import}.map)`);
  }
  const bins = typeof manifest.bin === 'string' ? { bin: manifest.bin } : (manifest.bin ?? {});
  for (const [name, target] of Object.entries(bins))
    if (!has.has(file(target))) problems.push(`bin "${name}" is not packed: ${target}`);
  for (const path of files) {
    if (!always.has(path) && !path.startsWith('dist/')) problems.push(`packs a file outside dist/: ${path}`);
    if (/\.test\.[cm]?[jt]s$/.test(path)) problems.push(`packs a test: ${path}`);
  }
  for (const field of ['dependencies', 'peerDependencies', 'optionalDependencies'] as const) {
    for (const [name, range] of Object.entries(manifest[field] ?? {}))
      if (/^(workspace|catalog):/.test(range)) problems.push(`${field}.${name} is still "${range}"`);
  }
  return problems;
}

/** Problems of one tarball, read with `tar`. */
export function tarballProblems(tarball: string): string[] {
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((path) => path.replace(/^package\//, ''));
  const manifest = JSON.parse(
    execFileSync('tar', ['-xOzf', tarball, 'package/package.json'], { encoding: 'utf8' }),
  );
  return contentProblems(files, manifest);
}
