/** How the CLI shows the API's answers to people (with `--json`, the answers go out as they are). */
import type * as v from 'valibot';
import type {
  approvalSchema,
  deploySchema,
  projectSummarySchema,
  releaseSchema,
  stageSummarySchema,
} from './client.ts';

// The answers' types come from the schemas the server answers with (and the CLI checks them against).
export type Release = v.InferOutput<typeof releaseSchema>;
export type StageView = v.InferOutput<typeof stageSummarySchema>;
export type ProjectView = v.InferOutput<typeof projectSummarySchema>;
export type ApprovalView = v.InferOutput<typeof approvalSchema>;
export type DeployView = v.InferOutput<typeof deploySchema>;

export const shortDigest = (digest: string | undefined) =>
  digest ? digest.replace(/^sha256:/, '').slice(0, 12) : '-';

/** Columns padded to the widest cell, two spaces apart. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows)
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  return rows
    .map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
    .join('\n');
}

/** `status`: each stage's release, digest, last deploy and what waits for a person. */
export function statusText(
  projects: readonly ProjectView[],
  approvals: readonly ApprovalView[],
  deploys: readonly DeployView[],
): string {
  const rows: string[][] = [['STAGE', 'RELEASE', 'DIGEST', 'LAST DEPLOY', 'AUTO', 'WAITING']];
  for (const project of projects) {
    for (const stage of project.stages) {
      const key = `${project.id}/${stage.name}`;
      const last = deploys.find((d) => d.project === project.id && d.stage === stage.name);
      const waiting = approvals
        .filter((a) => a.project === project.id && a.stage === stage.name)
        .map((a) => `${a.release.tag} needs approval (docker-watcher approve ${a.id})`);
      const deploying = last !== undefined && !last.finished;
      if (
        stage.desired &&
        stage.desired.digest !== stage.actual?.digest &&
        waiting.length === 0 &&
        !deploying
      )
        waiting.push(
          `${stage.desired.tag}: ${stage.desired.reason} (docker-watcher deploy ${project.id} ${stage.name})`,
        );
      rows.push([
        key,
        stage.actual?.tag ?? '-',
        shortDigest(stage.actual?.digest),
        last ? `${last.state} (${last.release.tag})` : '-',
        `${stage.autoDeploy ? 'on' : 'off'}${stage.pin ? `, pinned ${stage.pin}` : ''}`,
        waiting.join('; ') || '-',
      ]);
    }
  }
  return table(rows);
}

/** `history`: one line per deploy, newest first. */
export function historyText(deploys: readonly DeployView[]): string {
  if (deploys.length === 0) return 'no deploys yet';
  return table([
    ['WHEN', 'STAGE', 'RELEASE', 'DIGEST', 'STATE', 'TRIGGER', 'DEPLOY'],
    ...deploys.map((d) => [
      d.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      `${d.project}/${d.stage}`,
      d.release.tag,
      shortDigest(d.release.digest),
      d.error ? `${d.state} (${d.error.code})` : d.state,
      d.trigger,
      d.id,
    ]),
  ]);
}

export function stageText(stage: StageView, project: string): string {
  return `${project}/${stage.name}: auto-deploy ${stage.autoDeploy ? 'on' : 'off'}, ${stage.pin ? `pinned to ${stage.pin}` : 'not pinned'}; runs ${stage.actual ? `${stage.actual.tag} (${shortDigest(stage.actual.digest)})` : 'nothing'}`;
}
