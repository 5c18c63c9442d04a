import type Docker from 'dockerode';
import { parseStandInName, type StandInRole } from '../adopt/aside-name.ts';
import { type Replacement, replacementOf } from '../adopt/replacement.ts';
import { type ContainerFacts, type LabelModeOptions, parseContainerLabels } from './parse-labels.ts';

/** A container label mode may watch: the engine's listing, and its facts as label mode reads them. */
export interface CandidateContainer {
  readonly info: Docker.ContainerInfo;
  /** `name` is the user's name, also for a container set aside or tried beside it during an update. */
  readonly facts: ContainerFacts;
  /** Set when a deploy set this container aside, or tries it beside the one holding the name. */
  readonly standIn?: { readonly role: StandInRole; readonly original: string; readonly deployId: string };
  /** How an update would replace it, from its inspected configuration. */
  readonly replacement: Replacement;
}

/**
 * The containers that ask to be watched, with the image reference they were created from. The
 * listing's `Image` turns into an image id once the tag moved on (a `docker pull` of a newer
 * `latest`), so that comes from `docker inspect` (as does how an update would replace it), only for containers the labels opt in.
 */
export async function candidateContainers(
  docker: Docker,
  options: LabelModeOptions,
  signal?: AbortSignal,
): Promise<CandidateContainer[]> {
  const listed = await docker.listContainers({ all: true, ...(signal ? { abortSignal: signal } : {}) });
  const out: CandidateContainer[] = [];
  for (const info of listed) {
    const listedName = (info.Names?.[0] ?? info.Id).replace(/^\//, '');
    const standIn = parseStandInName(listedName);
    const facts = {
      id: info.Id,
      name: standIn?.original ?? listedName,
      image: info.Image,
      labels: info.Labels ?? {},
    };
    if (parseContainerLabels(facts, options).kind === 'ignored') continue;
    let inspected: Docker.ContainerInspectInfo;
    try {
      inspected = await docker.getContainer(info.Id).inspect();
    } catch {
      // Removed since the listing: it drops out with the next look.
      continue;
    }
    out.push({
      info,
      facts: { ...facts, image: inspected.Config.Image },
      replacement: replacementOf(inspected),
      ...(standIn ? { standIn } : {}),
    });
  }
  return out;
}
