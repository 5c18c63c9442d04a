import type { ConfigProblem } from '@docker-watcher/core';
import { parseDocument } from 'yaml';

/**
 * Names JavaScript gives a meaning of their own on every object (`__proto__`, `constructor`,
 * `toString`, `hasOwnProperty`…): as a project, stage or registry name they would be silently
 * dropped or resolve to a function, so they are refused wherever a key is written.
 */
export const reservedNames: ReadonlySet<string> = new Set([
  ...Object.getOwnPropertyNames(Object.prototype),
  'prototype',
]);

export const reservedNameMessage = (name: string) =>
  `"${name}" cannot be used as a name: JavaScript gives it a meaning of its own; choose another`;

/** Map -> null-prototype object, depth first; reserved or non-text keys become problems. */
function plain(value: unknown, path: string, problems: ConfigProblem[]): unknown {
  if (value instanceof Map) {
    const out: Record<string, unknown> = Object.create(null);
    for (const [rawKey, item] of value) {
      const where = (key: string) => (path ? `${path}.${key}` : key);
      if (rawKey === null || typeof rawKey === 'object') {
        problems.push({ path, message: 'has a key that is not a name (a list, a mapping or nothing)' });
        continue;
      }
      const key = String(rawKey);
      if (reservedNames.has(key)) {
        problems.push({ path: where(key), message: reservedNameMessage(key) });
        continue;
      }
      out[key] = plain(item, where(key), problems);
    }
    return out;
  }
  if (Array.isArray(value))
    return value.map((item, index) => plain(item, path ? `${path}.${index}` : String(index), problems));
  return value;
}

/**
 * Parses YAML text into null-prototype objects; syntax errors become problems with their line
 * and column, reserved names problems with their path.
 */
export function parseYaml(text: string): { value: unknown; problems: ConfigProblem[] } {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const problems = document.errors.map((error) => {
    const at = error.linePos?.[0];
    const where = at ? `line ${at.line}, column ${at.col}` : 'YAML';
    return { path: '', message: `${where}: ${error.message.split('\n')[0]}` };
  });
  if (problems.length > 0) return { value: undefined, problems };
  const value = plain(document.toJS({ mapAsMap: true }), '', problems);
  return { value, problems };
}
