import type Docker from 'dockerode';
import { isCachedFixtureRef } from './fixture-images.ts';
import { ownerLabel } from './labels.ts';
import { imageReferences } from './machine-state.ts';

export interface RunImages {
  /** The engine's image references when the run first used it. */
  readonly before: readonly string[];
  /** The run's registries (`127.0.0.1:<port>`): what is named after them is the run's. */
  readonly registryHosts: readonly string[];
  /** The run's owner: images it built carry it as a label. */
  readonly owner: number;
  /** Whether another run used the engine meanwhile; then only what is provably this run's goes. */
  readonly sharedWithOtherRuns: boolean;
}

/** References of images labelled as built by this run's owner. */
async function labelledReferences(docker: Docker, owner: number): Promise<Set<string>> {
  const images = await docker.listImages({ filters: { label: [`${ownerLabel}=${owner}`] } });
  const references = new Set<string>();
  for (const image of images) {
    for (const name of [...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])])
      if (!name.startsWith('<none>')) references.add(name);
    references.add(image.Id);
  }
  return references;
}

/** A predicate for the references this run provably made. */
export async function runOwnership(docker: Docker, run: RunImages): Promise<(reference: string) => boolean> {
  const labelled = await labelledReferences(docker, run.owner);
  return (reference) =>
    labelled.has(reference) || run.registryHosts.some((host) => reference.startsWith(`${host}/`));
}

/**
 * Removes the image references the run made: tags, pulled digests, builds. Never the fixture cache,
 * never a reference that was there before the run, never by force (an image a container uses stays).
 * Says how many it removed, and which are still there afterwards and should not be.
 */
export async function removeRunImages(
  docker: Docker,
  run: RunImages,
): Promise<{ removed: number; left: string[] }> {
  const before = new Set(run.before);
  const ours = await runOwnership(docker, run);
  const removable = (reference: string) =>
    !before.has(reference) && !isCachedFixtureRef(reference) && (!run.sharedWithOtherRuns || ours(reference));
  let removed = 0;
  // Removing a tag can leave its image untagged (listed by id): a few passes take those too.
  for (let pass = 0; pass < 3; pass++) {
    const doomed = (await imageReferences(docker)).filter(removable);
    if (doomed.length === 0) break;
    for (const reference of doomed) {
      const gone = await docker
        .getImage(reference)
        .remove({ noprune: false })
        .then(
          () => true,
          () => false,
        );
      if (gone) removed += 1;
    }
  }
  return { removed, left: (await imageReferences(docker)).filter(removable) };
}
