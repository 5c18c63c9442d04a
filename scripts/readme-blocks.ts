// The fenced code blocks of every README, for the checks that keep them copyable: the server's
// `readme-blocks` test (against the workspace) and the release rehearsal (against the packed packages).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PackedPackage } from './pack.ts';
import { root, workspacePackages } from './workspace.ts';

export interface ReadmeBlock {
  /** README path relative to the workspace root. */
  readonly file: string;
  /** Line of the opening fence, 1-based. */
  readonly line: number;
  readonly lang: string;
  /** Words after the language: `runnable` (a TypeScript block that runs), `external` (YAML of another program). */
  readonly flags: readonly string[];
  readonly code: string;
}

/** Every README tracked by git or new and not ignored, outside node_modules. */
export function readmeFiles(): string[] {
  const listed = spawnSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*README.md'], {
    cwd: root,
    encoding: 'utf8',
  });
  return listed.stdout.split('\n').filter((f) => f.endsWith('README.md') && !f.includes('node_modules'));
}

export function blocksOf(file: string, text: string): ReadmeBlock[] {
  const blocks: ReadmeBlock[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    blocks.push({
      file,
      line: start + 1,
      lang: open[1]!,
      flags: open[2]!.split(/\s+/).filter(Boolean),
      code: body.join('\n'),
    });
  }
  return blocks;
}

export function readmeBlocks(): ReadmeBlock[] {
  return readmeFiles().flatMap((file) => blocksOf(file, readFileSync(join(root, file), 'utf8')));
}

export const isTypeScript = (block: ReadmeBlock): boolean =>
  block.lang === 'ts' || block.lang === 'typescript';

/** The module specifiers a block imports (static, `import type`, dynamic and `export … from`). */
export function importsOf(code: string): string[] {
  const found = new Set<string>();
  for (const match of code.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)['"]([^'"]+)['"]/gm))
    found.add(match[1]!);
  return [...found];
}

/** `file:line` of a block, or of the line `offset` (1-based) inside it. */
export const whereIn = (block: ReadmeBlock, offset?: number): string =>
  `${block.file}:${block.line + (offset ?? 0)}`;

/**
 * The published entries of the packed packages (`exports` of their manifests), without the ones that
 * need vitest, which a user's project may not have (the rehearsal proves the rest load without it);
 * and valibot, which an adapter's author installs.
 */
function publishedEntries(packed: readonly PackedPackage[]): Set<string> {
  const names = new Set(packed.map((p) => p.name));
  const entries = new Set<string>(['valibot']);
  for (const pkg of workspacePackages())
    if (names.has(pkg.manifest.name))
      for (const subpath of Object.keys(pkg.manifest.exports ?? {}))
        if (!subpath.endsWith('/vitest') && subpath !== './package.json')
          entries.add(subpath === '.' ? pkg.manifest.name : `${pkg.manifest.name}/${subpath.slice(2)}`);
  return entries;
}

/**
 * Writes every README TypeScript block that imports only published entries and `node:*` into
 * `<app>/readme/block-<n>.ts`, for a project that installed the tarballs. Returns file → block.
 */
export function writeReadmeBlocks(app: string, packed: readonly PackedPackage[]): Map<string, ReadmeBlock> {
  const entries = publishedEntries(packed);
  const usable = readmeBlocks().filter(
    (block) =>
      isTypeScript(block) &&
      importsOf(block.code).every((specifier) => specifier.startsWith('node:') || entries.has(specifier)),
  );
  const folder = join(app, 'readme');
  mkdirSync(folder, { recursive: true });
  const files = new Map<string, ReadmeBlock>();
  usable.forEach((block, index) => {
    const file = join(folder, `block-${index}.ts`);
    writeFileSync(file, `${block.code}\nexport {};\n`);
    files.set(file, block);
  });
  return files;
}

/** tsc's lines about written blocks, said as README lines (`README.md:12: error TS…`). */
export function readmeLines(output: string, blocks: ReadonlyMap<string, ReadmeBlock>): string {
  const byName = new Map([...blocks].map(([file, block]) => [file.split('/').pop()!, block]));
  return output.replace(/^(?:.*\/)?(block-\d+\.ts)\((\d+),\d+\)/gm, (line, name: string, row: string) => {
    const block = byName.get(name);
    return block ? whereIn(block, Number(row)) : line;
  });
}
