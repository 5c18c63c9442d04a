// What the settings page makes of `GET /api/config` and `GET /api/status`.
import type { ConfigView } from '../api/types.ts';

/** The webhook endpoint a registry of this type posts to (apps/server/src/http/webhooks.ts). */
const webhookSource: ReadonlyMap<string, string> = new Map([
  ['gitea', 'gitea'],
  ['ghcr', 'github'],
  ['oci', 'registry'],
  ['dockerhub', 'registry'],
  ['memory', 'registry'],
]);

/** `https://watcher.example.com/api/webhook/gitea?registry=git`, or `undefined` for a type without webhooks. */
export function webhookUrl(origin: string, registry: { name: string; type: string }): string | undefined {
  const source = webhookSource.get(registry.type);
  if (!source) return undefined;
  return `${origin}/api/webhook/${source}?registry=${encodeURIComponent(registry.name)}`;
}

export interface Principal {
  readonly kind: 'user' | 'token';
  readonly name: string;
  readonly scopes: readonly string[];
}

/**
 * Users and API tokens by name with their scopes, from the config's values (`global.server.users.0.name`,
 * `…scopes.1`). Only names and scopes are read: secrets never reach this page (the server masks them).
 */
export function principals(config: ConfigView): Principal[] {
  const found = new Map<string, { kind: Principal['kind']; name?: string; scopes: string[] }>();
  for (const { path, value } of config.values) {
    const match = /^global\.server\.(users|tokens)\.(\d+)\.(name|scopes\.\d+)$/.exec(path);
    if (!match || typeof value !== 'string') continue;
    const key = `${match[1]}.${match[2]}`;
    const entry = found.get(key) ?? { kind: match[1] === 'users' ? 'user' : 'token', scopes: [] };
    if (match[3] === 'name') entry.name = value;
    else entry.scopes.push(value);
    found.set(key, entry);
  }
  const out: Principal[] = [];
  for (const { kind, name, scopes } of found.values())
    if (name !== undefined) out.push({ kind, name, scopes });
  return out.sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
}

/** A stage's settings from the config's values: `projects.<id>.stages.<stage>.<key>` (and the project's own). */
export function stageSettings(config: ConfigView, project: string, stage: string): Map<string, string> {
  const out = new Map<string, string>();
  const projectPrefix = `projects.${project}.`;
  const stagePrefix = `${projectPrefix}stages.${stage}.`;
  for (const { path, value } of config.values) {
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (path.startsWith(stagePrefix)) out.set(path.slice(stagePrefix.length), text);
    else if (path.startsWith(projectPrefix) && !path.startsWith(`${projectPrefix}stages.`)) {
      const key = path.slice(projectPrefix.length);
      if (!out.has(key)) out.set(key, text);
    }
  }
  return out;
}
