import type { ConfigProblem } from '@docker-watcher/core';
import type { Environment, SecretOrigin } from './normalize.ts';

/**
 * The server's own settings from `DOCKER_WATCHER_*` variables, as Watchtower and What's Up Docker
 * users set them; each wins over the file.
 */
export const environmentSettings = [
  {
    variable: 'DOCKER_WATCHER_LISTEN',
    path: ['global', 'server', 'listen'],
    description: 'Address the HTTP server listens on, `host:port` (`global.server.listen`).',
    example: '0.0.0.0:8080',
  },
  {
    variable: 'DOCKER_WATCHER_STORE',
    path: ['global', 'store'],
    description:
      'Where state lives: `sqlite:<file>`, a PostgreSQL URL or `memory:` (`global.store`; may hold a password, never logged).',
    example: 'sqlite:/data/docker-watcher.db',
  },
  {
    variable: 'DOCKER_WATCHER_LOG_LEVEL',
    path: ['global', 'server', 'log_level'],
    description: '`debug`, `info`, `warn` or `error` (`global.server.log_level`).',
    example: 'debug',
  },
  {
    variable: 'DOCKER_WATCHER_POLL_INTERVAL',
    path: ['global', 'poll_interval_seconds'],
    description: 'Seconds between polls; 0: webhooks only (`global.poll_interval_seconds`).',
    example: '300',
  },
] as const;

const isMapping = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Writes the variables that are set into the parsed file, remembering where each value came from. */
export function applyEnvironment(
  raw: Record<string, unknown>,
  env: Environment,
  origins: Map<string, SecretOrigin>,
  problems: ConfigProblem[],
): void {
  for (const setting of environmentSettings) {
    const value = env[setting.variable];
    if (value === undefined || value === '') continue;
    let at: Record<string, unknown> = raw;
    let ok = true;
    for (const key of setting.path.slice(0, -1)) {
      if (at[key] === undefined) at[key] = Object.create(null);
      if (!isMapping(at[key])) {
        problems.push({
          path: setting.variable,
          message: `cannot apply: ${setting.path.join('.')} is not a mapping in the file`,
        });
        ok = false;
        break;
      }
      at = at[key] as Record<string, unknown>;
    }
    if (!ok) continue;
    const last = setting.path[setting.path.length - 1]!;
    const number = Number(value);
    at[last] =
      setting.variable === 'DOCKER_WATCHER_POLL_INTERVAL' && value.trim() !== '' && !Number.isNaN(number)
        ? number
        : value;
    if (setting.variable === 'DOCKER_WATCHER_STORE') {
      delete at.store_env;
      delete at.store_file;
    }
    origins.set(setting.path.join('.'), { path: setting.variable, what: '' });
  }
}
