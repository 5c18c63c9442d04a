import type { Instance, StageRef } from '@docker-watcher/core';
import { stageKey } from '@docker-watcher/core';
import type Docker from 'dockerode';
import { statusOf } from '../_errors.ts';
import { type CandidateContainer, candidateContainers } from '../labels/container-facts.ts';
import { parseImageName } from '../labels/image-name.ts';
import { type LabelModeOptions, parseContainerLabels } from '../labels/parse-labels.ts';

/** A container standing in during an update (`aside-name.ts`), with the deploy its name carries. */
export type StandIn = CandidateContainer & { readonly deployId: string };

/**
 * The containers of one labelled stage: the one holding its name, old ones set aside by in-place
 * deploys, and new ones tried beside it by side-by-side deploys.
 */
export interface StageContainers {
  readonly ref: StageRef;
  /** The name the user gave the container. */
  readonly name: string;
  holder?: CandidateContainer;
  readonly asides: StandIn[];
  readonly nexts: StandIn[];
}

/** Deploy id of a container that runs as the user (or an earlier finished deploy) left it. */
export const adoptedDeployId = 'adopted';
const previousOf = (deployId: string) => `${deployId}:previous`;

const stateOf = (status: string): Instance['state'] =>
  status === 'running' ? 'running' : status === 'created' || status === 'paused' ? 'stopped' : 'exited';

/** The engine's labelled containers by project-stage (key `project/stage`). */
export async function stageContainers(
  docker: Docker,
  labelMode: LabelModeOptions,
  signal?: AbortSignal,
): Promise<Map<string, StageContainers>> {
  const found = new Map<string, StageContainers>();
  for (const { info, facts, standIn, replacement } of await candidateContainers(docker, labelMode, signal)) {
    const verdict = parseContainerLabels(facts, labelMode);
    if (verdict.kind !== 'stage') continue;
    const ref = { project: verdict.stage.project, stage: verdict.stage.stage };
    const key = stageKey(ref);
    const group = found.get(key) ?? { ref, name: facts.name, asides: [], nexts: [] };
    if (standIn?.role === 'aside')
      group.asides.push({ info, facts, replacement, standIn, deployId: standIn.deployId });
    else if (standIn) group.nexts.push({ info, facts, replacement, standIn, deployId: standIn.deployId });
    else group.holder = { info, facts, replacement };
    found.set(key, group);
  }
  return found;
}

/** Tag from the container's image reference, digest from the image's registry references. */
async function releaseOf(docker: Docker, { info, facts }: CandidateContainer) {
  const name = parseImageName(facts.image);
  const image = await docker
    .getImage(info.ImageID)
    .inspect()
    .catch((error: unknown) => {
      if (statusOf(error) === 404) return undefined;
      throw error;
    });
  const digest =
    image?.RepoDigests?.find((reference) => name && reference.startsWith(`${name.repository}@`))?.split(
      '@',
    )[1] ??
    name?.digest ??
    '';
  return { tag: name?.tag ?? '', digest };
}

/**
 * A stage's containers as instances, each with the deploy it stands for: the one under the name for
 * the newest deploy that set one aside (else `adopted`), a set-aside one for its deploy's previous
 * release, and a new one tried beside the old one for its deploy.
 */
export async function instancesOf(docker: Docker, group: StageContainers): Promise<Instance[]> {
  const make = async (container: CandidateContainer, deployId: string): Promise<Instance> => ({
    id: container.info.Id,
    ...group.ref,
    deployId,
    release: await releaseOf(docker, container),
    state: stateOf(container.info.State),
  });
  const newest = [...group.asides].sort((a, b) => b.info.Created - a.info.Created)[0];
  const out: Instance[] = [];
  if (group.holder) out.push(await make(group.holder, newest?.deployId ?? adoptedDeployId));
  for (const aside of group.asides) {
    // Without a container under the name or one tried beside it, the set-aside one stands for its
    // deploy (an in-place update that crashed mid-way).
    const replaced = group.holder || group.nexts.some((next) => next.deployId === aside.deployId);
    out.push(await make(aside, replaced ? previousOf(aside.deployId) : aside.deployId));
  }
  for (const next of group.nexts) out.push(await make(next, next.deployId));
  return out;
}
