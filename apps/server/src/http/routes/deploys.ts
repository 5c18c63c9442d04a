import type { deployRoutes } from '../../api/deploys.ts';
import { type ApiContext, deployView } from '../api-context.ts';
import { fieldError, notFound } from '../errors.ts';
import type { AppContext, Handlers } from '../register.ts';
import { deployLogStream } from '../sse.ts';

export function deployHandlers(api: ApiContext): Handlers<typeof deployRoutes> {
  const { engine, store, board } = api.composed;
  const by = (c: AppContext) => c.get('caller').name;
  const deployOf = async (id: string) => {
    const deploy = await store.getDeploy({ id });
    if (!deploy) throw notFound('deploy', id);
    return deploy;
  };
  const approvalOf = async (id: string) => {
    const approval = await store.getApproval({ id });
    if (!approval) throw notFound('approval', id);
    return approval;
  };

  return {
    listDeploys: async (_c, { query }) => {
      if (query.since !== undefined && query.until !== undefined && query.since >= query.until)
        throw fieldError([{ path: 'until', message: 'must be later than since' }], 'Invalid query');
      const limit = query.limit ?? 50;
      const found = await store.listDeploys({
        ...(query.project ? { project: query.project } : {}),
        ...(query.stage ? { stage: query.stage } : {}),
        ...(query.state ? { states: query.state } : {}),
        ...(query.trigger ? { trigger: query.trigger } : {}),
        ...(query.since ? { since: query.since } : {}),
        ...(query.until ? { until: query.until } : {}),
        ...(query.before ? { before: query.before } : {}),
        limit: limit + 1,
      });
      const page = found.slice(0, limit);
      return { deploys: page.map(deployView), next: found.length > limit ? (page.at(-1)?.id ?? null) : null };
    },
    getDeploy: async (_c, { params }) => ({ deploy: deployView(await deployOf(params.id)) }),
    streamDeployLog: async (c, { params }) => {
      await deployOf(params.id);
      return deployLogStream(c, {
        store,
        bus: engine.bus,
        deployId: params.id,
        ...(api.heartbeatMs ? { heartbeatMs: api.heartbeatMs } : {}),
      });
    },
    cancelDeploy: async (c, { params }) => {
      const record = await deployOf(params.id);
      const deploy = await engine.cancel({ id: params.id, by: by(c) });
      board.invalidate(record);
      await api.audit(c, 'cancel', params.id, { project: record.project, stage: record.stage });
      return { deploy: deployView(deploy) };
    },
    listApprovals: async (_c, { query }) => {
      if (query.project !== undefined) api.projectOf(query.project);
      const status = query.status === 'all' ? undefined : (query.status ?? 'pending');
      const approvals = await store.listApprovals({
        ...(query.project ? { project: query.project } : {}),
        ...(query.stage ? { stage: query.stage } : {}),
        ...(status ? { status } : {}),
      });
      return { approvals };
    },
    approve: async (c, { params, body }) => {
      await approvalOf(params.id);
      const deploy = await engine.approve({
        id: params.id,
        by: by(c),
        ...(body.comment === undefined ? {} : { comment: body.comment }),
      });
      const approval = await approvalOf(params.id);
      board.invalidate(approval);
      await api.audit(c, 'approve', params.id, {
        deployId: deploy.id,
        ...(body.comment === undefined ? {} : { comment: body.comment }),
      });
      return { deploy: deployView(deploy), approval };
    },
    reject: async (c, { params, body }) => {
      await approvalOf(params.id);
      const approval = await engine.reject({
        id: params.id,
        by: by(c),
        ...(body.comment === undefined ? {} : { comment: body.comment }),
      });
      board.invalidate(approval);
      await api.audit(
        c,
        'reject',
        params.id,
        body.comment === undefined ? undefined : { comment: body.comment },
      );
      return { rejected: params.id, approval };
    },
    listAudit: async (_c, { query }) => {
      const limit = query.limit ?? 100;
      const found = await store.listAudit({
        limit: limit + 1,
        ...(query.before === undefined ? {} : { before: query.before }),
        ...(query.actor === undefined ? {} : { actor: query.actor }),
        ...(query.action === undefined ? {} : { action: query.action }),
      });
      const events = found.slice(0, limit);
      return { events, next: found.length > limit ? (events.at(-1)?.seq ?? null) : null };
    },
  };
}
