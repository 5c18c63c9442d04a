// Releases a person can choose from: what a rollback restores, what a promotion may take.
import type { DeployRecord, Release } from '../api/types.ts';

/** Successful releases of a stage from its deploys (newest first), each digest once. */
export function provenReleases(deploys: readonly DeployRecord[]): Array<Release & { readonly at: string }> {
  const seen = new Set<string>();
  const out: Array<Release & { readonly at: string }> = [];
  for (const deploy of deploys) {
    if (deploy.state !== 'succeeded' || seen.has(deploy.release.digest)) continue;
    seen.add(deploy.release.digest);
    out.push({ ...deploy.release, at: deploy.updatedAt });
  }
  return out;
}

/** What a rollback of the stage brings back: the newest success that is not what runs now. */
export function rollbackTarget(
  deploys: readonly DeployRecord[],
  actual: Release | null,
): Release | undefined {
  return provenReleases(deploys).find((release) => release.digest !== actual?.digest);
}
