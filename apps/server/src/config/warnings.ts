import type { ResolveContext } from './context.ts';
import type { ConfigFile } from './schema.ts';

const isMapping = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * Settings that are valid but do nothing where they stand: said as warnings, so a file's meaning
 * never changes without a word.
 */
export function noOpWarnings(ctx: ResolveContext, file: ConfigFile, raw: Record<string, unknown>): void {
  const global = isMapping(file.global) ? file.global : undefined;
  const rawGlobal = isMapping(raw.global) ? raw.global : {};
  if (!global) return;
  const routed = global.proxy !== undefined || global.npm !== undefined;
  if (global.domain === undefined) {
    if (rawGlobal.subdomain_pattern !== undefined)
      ctx.warn('global.subdomain_pattern', 'does nothing without global.domain (stages get no host)');
    for (const [id, project] of Object.entries(isMapping(file.projects) ? file.projects : {})) {
      for (const [name, stage] of Object.entries(isMapping(project?.stages) ? project.stages : {})) {
        if (stage?.subdomain !== undefined)
          ctx.warn(
            `projects.${id}.stages.${name}.subdomain`,
            'does nothing without global.domain (the stage gets no host)',
          );
      }
    }
  } else if (!routed) {
    ctx.warn(
      'global.domain',
      'stage hosts are named, but no proxy routes them: set global.proxy or global.npm',
    );
  }
  if (global.notification_url === undefined && global.notification_secret !== undefined)
    ctx.warn('global.notification_secret', 'does nothing without global.notification_url');
  if (global.poll_interval_seconds === 0) {
    const hooked = Object.values(isMapping(file.registries) ? file.registries : {}).some(
      (r) => isMapping(r) && (r.webhook_secret !== undefined || isMapping(r.webhook)),
    );
    if (!hooked)
      ctx.warn(
        'global.poll_interval_seconds',
        'is 0 (webhooks only), but no registry takes webhooks (webhook_secret_env): new tags are never noticed',
      );
  }
  const server = isMapping(rawGlobal.server) ? rawGlobal.server : {};
  if (server.session !== undefined && (global.server?.users ?? []).length === 0)
    ctx.warn(
      'global.server.session',
      'does nothing without global.server.users (there is no dashboard login)',
    );
}
