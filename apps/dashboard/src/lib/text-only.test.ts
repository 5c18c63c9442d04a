// Text from the server (tags, names, log lines, error messages) is rendered as text: Svelte escapes
// every `{expression}`, so the only ways to render HTML are these, and the dashboard uses none.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname, '..');
const htmlSinks = /\{@html\b|\.innerHTML\b|\.outerHTML\b|insertAdjacentHTML|document\.write|srcdoc|DOMParser/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return /\.(svelte|ts)$/.test(entry.name) && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('text stays text', () => {
  it('no component or module renders HTML from a string', () => {
    const files = sources(src);
    expect(files.length).toBeGreaterThan(20);
    const offenders = files
      .filter((file) => htmlSinks.test(readFileSync(file, 'utf8')))
      .map((file) => relative(src, file));
    expect(offenders).toEqual([]);
  });
});
