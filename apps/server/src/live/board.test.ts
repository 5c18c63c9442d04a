import {
  compileTagPolicy,
  createMemoryStateStore,
  type EngineProject,
  type StateStore,
} from '@docker-watcher/core';
import { describe, expect, it } from 'vitest';
import { StageBoard } from './board.ts';

const digest = (n: number) => `sha256:${String(n).padStart(64, '0')}`;

const projects: EngineProject[] = Array.from({ length: 20 }, (_, index) => ({
  id: `p-${index}`,
  registry: 'local',
  repository: `team/p-${index}`,
  stages: Object.fromEntries(
    ['dev', 'prod'].map((stage) => [
      stage,
      {
        policy: compileTagPolicy({ pattern: 'v*' }),
        autoDeploy: true,
        deploy: {
          image: `registry.example.com/team/p-${index}`,
          port: 8080,
          strategy: 'blue-green' as const,
          health: { path: '/', intervalMs: 1, timeoutMs: 1, retries: 1, startPeriodMs: 0 },
        },
      },
    ]),
  ),
}));

/** The store, counting its reads of single stages. */
function countingStore() {
  const store = createMemoryStateStore();
  const reads: string[] = [];
  const counted: StateStore = {
    ...store,
    getStage: (params) => {
      reads.push(`${params.project}/${params.stage}`);
      return store.getStage(params);
    },
  };
  return { store, counted, reads };
}

const actualOf = (body: Uint8Array, project: string) =>
  (
    JSON.parse(Buffer.from(body).toString('utf8')) as {
      projects: Array<{ id: string; stages: Array<{ name: string; actual: { tag: string } | null }> }>;
    }
  ).projects.find((p) => p.id === project)?.stages[0]?.actual?.tag;

async function deploy(store: StateStore, project: string, tag: string, n: number) {
  const current = await store.getStage({ project, stage: 'dev' });
  await store.putStage({
    state: {
      project,
      stage: 'dev',
      autoDeploy: true,
      history: [],
      actual: { tag, digest: digest(n) },
    },
    expectedRevision: current?.revision ?? 0,
  });
}

describe('StageBoard', () => {
  it('names the container of a stage label mode made, and no source for the config file’s', async () => {
    const board = new StageBoard({
      store: createMemoryStateStore(),
      projects: projects.slice(0, 2),
      lastEventId: () => 0,
      containerOf: (ref) => (ref.project === 'p-1' && ref.stage === 'prod' ? 'shop-web' : undefined),
    });
    const body = JSON.parse(Buffer.from(await board.projectsJson()).toString('utf8')) as {
      projects: Array<{ id: string; stages: Array<{ name: string; source?: string; container?: string }> }>;
    };
    const sources = body.projects.flatMap((p) =>
      p.stages.map((s) => [`${p.id}/${s.name}`, s.source ?? null, s.container ?? null]),
    );
    expect(sources).toEqual([
      ['p-0/dev', null, null],
      ['p-0/prod', null, null],
      ['p-1/dev', null, null],
      ['p-1/prod', 'labels', 'shop-web'],
    ]);
  });

  it('reads and encodes again only the project whose stage changed', async () => {
    const { store, counted, reads } = countingStore();
    await deploy(store, 'p-3', 'v1', 1);
    const board = new StageBoard({ store: counted, projects, lastEventId: () => 7 });
    const first = await board.projectsJson();
    expect(actualOf(first, 'p-3')).toBe('v1');
    await board.boardJson();
    // Each project's part of each answer encoded once; the first load reads all stages at once.
    expect(board.projectRenders).toBe(2 * projects.length);
    expect(reads).toEqual([]);

    // Nothing changed: the same bytes, nothing encoded again.
    expect(await board.projectsJson()).toBe(first);
    expect(board.projectRenders).toBe(2 * projects.length);

    await deploy(store, 'p-3', 'v2', 2);
    board.onEntry({ seq: 8, event: { type: 'stage:updated', project: 'p-3', stage: 'dev' } as never });
    const second = await board.projectsJson();
    expect(actualOf(second, 'p-3')).toBe('v2');
    const compact = JSON.parse(Buffer.from(await board.boardJson()).toString('utf8'));
    expect(compact.projects[3].stages[0].actual.tag).toBe('v2');
    expect(compact.lastEventId).toBe(7);
    // One stage read, one project encoded again per answer.
    expect(reads).toEqual(['p-3/dev']);
    expect(board.projectRenders).toBe(2 * projects.length + 2);
    // Every other project's part is as before, byte for byte.
    const unchanged = (body: Uint8Array) =>
      (JSON.parse(Buffer.from(body).toString('utf8')) as { projects: Array<{ id: string }> }).projects.filter(
        (p) => p.id !== 'p-3',
      );
    expect(unchanged(second)).toEqual(unchanged(first));
    expect(Buffer.from((await board.projectJson('p-3'))!).toString('utf8')).toBe(
      JSON.stringify(JSON.parse(Buffer.from(second).toString('utf8')).projects[3]),
    );
  });

  it('answers JSON that parses to what the stages hold, with no projects at all too', async () => {
    const empty = new StageBoard({ store: createMemoryStateStore(), projects: [], lastEventId: () => 0 });
    expect(JSON.parse(Buffer.from(await empty.projectsJson()).toString('utf8'))).toEqual({ projects: [] });
    const board = JSON.parse(Buffer.from(await empty.boardJson()).toString('utf8'));
    expect(board).toMatchObject({ lastEventId: 0, projects: [] });
    expect(typeof board.generatedAt).toBe('string');
  });
});
