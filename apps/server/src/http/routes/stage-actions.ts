import type { DeployRecord, StageRef } from '@docker-watcher/core';
import { stageKey } from '@docker-watcher/core';
import type { stageActionRoutes } from '../../api/stage-actions.ts';
import { type ApiContext, deployView } from '../api-context.ts';
import type { AppContext, Handlers } from '../register.ts';

export function stageActionHandlers(api: ApiContext): Handlers<typeof stageActionRoutes> {
  const { engine, store, board } = api.composed;
  const by = (c: AppContext) => c.get('caller').name;

  /** Queues through `act`; a deploy of the stage that was queued or running before is a reuse. */
  const queue = async (
    c: AppContext,
    ref: StageRef,
    action: string,
    act: () => Promise<DeployRecord>,
    details: Record<string, unknown> = {},
  ) => {
    const before = new Set((await store.listDeploys({ ...ref, unfinished: true })).map((d) => d.id));
    const deploy = await act();
    board.invalidate(ref);
    const reused = before.has(deploy.id);
    await api.audit(c, action, stageKey(ref), {
      deployId: deploy.id,
      ...details,
      ...(reused ? { reused } : {}),
    });
    return { deploy: deployView(deploy), ...(reused ? { reused: true as const } : {}) };
  };
  const summary = async (ref: StageRef) => {
    board.invalidate(ref);
    return board.summaryOf((await board.stage(ref))!);
  };

  return {
    deployStage: async (c, { params, body }) => {
      const ref = api.refOf(params.id, params.stage);
      return queue(
        c,
        ref,
        'deploy',
        () => engine.deploy({ ...ref, ...(body.tag ? { tag: body.tag } : {}), by: by(c) }),
        {
          ...(body.tag ? { tag: body.tag } : {}),
        },
      );
    },
    rollbackStage: async (c, { params }) => {
      const ref = api.refOf(params.id, params.stage);
      return queue(c, ref, 'rollback', () => engine.rollback({ ...ref, by: by(c) }));
    },
    promoteStage: async (c, { params, body }) => {
      const ref = api.refOf(params.id, params.stage);
      return queue(c, ref, 'promote', () =>
        engine.promote({ ...ref, ...(body.digest ? { digest: body.digest } : {}), by: by(c) }),
      );
    },
    pinStage: async (c, { params, body }) => {
      const ref = api.refOf(params.id, params.stage);
      await engine.pin({ ...ref, tag: body.tag, by: by(c) });
      await api.audit(c, 'pin', stageKey(ref), { tag: body.tag });
      return summary(ref);
    },
    unpinStage: async (c, { params }) => {
      const ref = api.refOf(params.id, params.stage);
      await engine.pin({ ...ref, tag: undefined, by: by(c) });
      await api.audit(c, 'unpin', stageKey(ref));
      return summary(ref);
    },
    setAutoDeploy: async (c, { params, body }) => {
      const ref = api.refOf(params.id, params.stage);
      await engine.setAutoDeploy({ ...ref, enabled: body.enabled, by: by(c) });
      await api.audit(c, 'auto-deploy', stageKey(ref), { enabled: body.enabled });
      return summary(ref);
    },
  };
}
