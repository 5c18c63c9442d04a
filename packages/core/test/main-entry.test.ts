import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sourceDir = join(packageDir, 'src');

// Static and dynamic imports and re-exports, type-only ones included: they all name a module.
const specifierPattern = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

/** Every module reachable from `entry` through relative imports, and every bare specifier on the way. */
function importGraph(entry: string): { files: string[]; packages: Map<string, string> } {
  const files: string[] = [];
  const packages = new Map<string, string>();
  const pending = [entry];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    files.push(file);
    for (const match of readFileSync(file, 'utf8').matchAll(specifierPattern)) {
      const specifier = match[1] as string;
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier);
        if (!existsSync(target))
          throw new Error(`${relative(packageDir, file)} imports missing ${specifier}`);
        pending.push(target);
      } else {
        packages.set(specifier, relative(packageDir, file));
      }
    }
  }
  return { files: files.map((file) => relative(packageDir, file)).sort(), packages };
}

describe('the main entry of core', () => {
  const graph = importGraph(join(sourceDir, 'index.ts'));

  it('walks the real source graph', () => {
    expect(graph.files).toContain('src/errors.ts');
    expect(graph.files).toContain('src/contracts/adapter.ts');
  });

  it('never reaches vitest', () => {
    const offending = [...graph.packages].filter(([specifier]) => /^(vitest|@vitest\/)/.test(specifier));
    expect(offending).toEqual([]);
  });

  it('never reaches the testing entry', () => {
    expect(graph.files.filter((file) => file.startsWith('src/testing/'))).toEqual([]);
  });

  it('nor does the memory entry, which the main entry re-exports', () => {
    const memory = importGraph(join(sourceDir, 'memory', 'index.ts'));
    expect([...memory.packages.keys()].filter((specifier) => specifier.includes('vitest'))).toEqual([]);
    expect(memory.files.filter((file) => file.startsWith('src/testing/'))).toEqual([]);
  });

  it('finds vitest from the testing entry (the walk does see it)', () => {
    const testing = importGraph(join(sourceDir, 'testing', 'vitest.ts'));
    expect(testing.packages.has('vitest')).toBe(true);
  });
});

describe('the testing entry of core', () => {
  it('loads without vitest: only its vitest entry imports it', () => {
    const testing = importGraph(join(sourceDir, 'testing', 'index.ts'));
    expect(testing.files).toContain('src/testing/registry-suite.ts');
    expect([...testing.packages].filter(([specifier]) => /^(vitest|@vitest\/)/.test(specifier))).toEqual([]);
    expect(testing.files).not.toContain('src/testing/vitest.ts');
  });
});
