// The client must load in a browser: nothing it imports (at run time) may need Node.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

/** Run-time imports of a module and, recursively, of its relative imports. */
function runtimeImports(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return new Set();
  seen.add(file);
  const found = new Set<string>();
  const source = readFileSync(file, 'utf8');
  for (const match of source.matchAll(/^(?:import|export)\s+(?!type\b)[^'";]*?from\s+'([^']+)'/gm)) {
    const specifier = match[1]!;
    if (specifier.startsWith('.'))
      for (const inner of runtimeImports(join(dirname(file), specifier), seen)) found.add(inner);
    else found.add(specifier);
  }
  return found;
}

describe('the client entry', () => {
  it('imports nothing at run time but valibot', () => {
    expect([...runtimeImports(join(here, 'client.ts'))]).toEqual(['valibot']);
  });
});
