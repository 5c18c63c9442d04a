// The data the durable stores' backup tests write, export and import: one scenario for every store.
import type { StateStore } from '../contracts/state-store.ts';
import type { StoreBackup } from '../store-kit/backup.ts';
import type { SecretStore } from '../store-kit/secret-box.ts';

const digest = (char: string): string => `sha256:${char.repeat(64)}`;
const release = (tag: string, char: string) => ({ tag, digest: digest(char) });

/**
 * Fills a durable store with one of everything a backup carries: two stages, three deploys (two
 * finished, with journals and data), logs (one of a deploy that does not exist), two approvals, two
 * audit events and one secret (`gitea-token`: `gitea-secret-value`). Its backup counts
 * `{ stages: 2, deploys: 3, logLines: 7, approvals: 2, audit: 2, secrets: 1 }`.
 */
export async function populateBackupFixture(
  store: StateStore & Pick<SecretStore, 'putSecret'>,
): Promise<void> {
  const at = '2026-03-01T10:00:00.000Z';
  await store.putStage({
    state: {
      project: 'web-app',
      stage: 'dev',
      autoDeploy: true,
      desired: { ...release('dev-1', 'a'), reason: 'newest' },
      history: [release('dev-1', 'a')],
    },
    expectedRevision: 0,
  });
  await store.putStage({
    state: {
      project: 'web-app',
      stage: 'prod',
      autoDeploy: false,
      pin: 'v1.0.0',
      history: [],
    },
    expectedRevision: 0,
  });
  for (const n of [1, 2, 3]) {
    let record = await store.createDeploy({
      deploy: {
        id: `d-${n}`,
        project: 'web-app',
        stage: 'dev',
        release: release(`dev-${n}`, 'a'),
        trigger: 'auto',
        state: 'pending',
        data: { n },
      },
    });
    record = await store.updateDeploy({
      id: record.id,
      expectedRevision: 1,
      update: { state: 'pulling', note: 'pull' },
    });
    if (n < 3) {
      await store.updateDeploy({
        id: record.id,
        expectedRevision: 2,
        update: {
          state: 'failed',
          finished: true,
          error: { code: 'TIMEOUT', message: 'slow' },
          data: { more: [1, 2] },
        },
      });
    }
    await store.appendLog({
      deployId: record.id,
      lines: [
        { at, level: 'info', line: `line of ${n}` },
        { at, level: 'error', line: 'ünïcode ✓' },
      ],
    });
  }
  await store.appendLog({ deployId: 'orphan', lines: [{ at, level: 'debug', line: 'before its deploy' }] });
  await store.putApproval({
    approval: {
      id: 'a-1',
      project: 'web-app',
      stage: 'prod',
      release: release('v1.0.0', 'b'),
      status: 'pending',
      requestedAt: at,
    },
  });
  await store.putApproval({
    approval: {
      id: 'a-2',
      project: 'web-app',
      stage: 'prod',
      release: release('v1.1.0', 'c'),
      status: 'rejected',
      requestedAt: at,
      decidedAt: at,
      decidedBy: 'bob',
    },
  });
  await store.appendAudit({
    event: { at, actor: 'alice', action: 'stage.pin', target: 'web-app/prod', details: { tag: 'v1.0.0' } },
  });
  await store.appendAudit({ event: { at, actor: 'bob', action: 'approval.reject' } });
  await store.putSecret({ name: 'gitea-token', value: 'gitea-secret-value' });
}

/** A backup without its export time, to compare two backups of the same data. */
export const withoutExportTime = ({ exportedAt: _at, ...rest }: StoreBackup) => rest;
