import packageJson from '../../../package.json' with { type: 'json' };
import type { systemRoutes } from '../../api/system.ts';
import type { StageFacts } from '../../live/board.ts';
import { availableOf } from '../../live/board.ts';
import type { ConfigStatus } from '../../serve.ts';
import type { ApiContext } from '../api-context.ts';
import { configValues } from '../config-view.ts';
import { errorBody } from '../errors.ts';
import type { Handlers } from '../register.ts';

const startedAt = new Date(Date.now() - Math.round(process.uptime() * 1000)).toISOString();

/** A stage's next step as the board sees it: a deploy under way, a release waiting for a person, or nothing. */
function nextStep(facts: StageFacts) {
  const deploy = facts.lastDeploy;
  if (deploy && !deploy.finished)
    return { action: 'deploying' as const, release: deploy.release, deployId: deploy.id };
  if (facts.approval)
    return {
      action: 'awaiting-confirmation' as const,
      release: facts.approval.release,
      approvalId: facts.approval.id,
    };
  const available = availableOf(facts);
  if (available) return { action: 'available' as const, release: available.release };
  return { action: 'none' as const };
}

export function systemHandlers(
  api: ApiContext,
  extra: {
    readonly ready: () => boolean;
    /** Why the store cannot take work now (`/readyz`), or undefined. */
    readonly storeProblem: () => Promise<string | undefined>;
    readonly openApi: () => Record<string, unknown>;
    readonly configStatus?: () => ConfigStatus;
  },
): Handlers<typeof systemRoutes> {
  const { composed } = api;
  const { engine, store, board, activity, config } = composed;
  const loadedAt = new Date().toISOString();
  return {
    healthz: () => ({ status: 'ok' as const }),
    readyz: async (c) => {
      if (!extra.ready()) return c.json(errorBody('UNAVAILABLE', 'Not ready'), 503);
      const problem = await extra.storeProblem();
      return problem === undefined
        ? { status: 'ready' as const }
        : c.json(errorBody('UNAVAILABLE', `Not ready: ${problem}`), 503);
    },
    metrics: (c) =>
      c.body(composed.metrics.render(), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }),
    openApi: () => extra.openApi(),
    getStatus: async () => {
      const stages = [];
      for (const project of config.projects)
        for (const stage of Object.keys(project.stages)) {
          const facts = await board.stage({ project: project.id, stage });
          if (facts) stages.push({ project: project.id, stage, next: nextStep(facts) });
        }
      const replica = engine.leadership();
      return {
        version: packageJson.version,
        startedAt,
        store: { id: store.id, ...store.capabilities },
        replica,
        leader: replica.leader ? replica.holder : (activity.leader() ?? null),
        replicas: activity.replicas(),
        registries: activity.registries().map((entry) => ({
          ...entry,
          type: config.registries[entry.name]?.type ?? 'unknown',
        })),
        stages,
        leftovers: engine.leftovers(),
        config: extra.configStatus?.() ?? null,
      };
    },
    getConfig: () => ({ file: null, loadedAt, values: configValues(config) }),
    streamEvents: async (c, { query }) => {
      const header = c.req.header('last-event-id');
      const lastEventId =
        header !== undefined && /^\d{1,15}$/.test(header.trim()) ? Number(header) : undefined;
      // Under @hono/node-server: the response, so that a client too slow to keep is disconnected quietly.
      const outgoing = (c.env as { outgoing?: { destroy(): void } } | undefined)?.outgoing;
      const stream = await composed.events.subscribe({
        ...(lastEventId === undefined ? {} : { lastEventId }),
        ...(query.types ? { types: new Set(query.types) } : {}),
        ...(outgoing ? { disconnect: () => outgoing.destroy() } : {}),
      });
      return new Response(stream, {
        headers: {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache, no-transform',
          'x-accel-buffering': 'no',
        },
      });
    },
  };
}
