// What a test run must leave as it found it: the host's network devices, the Docker Engine (up or
// down, and the same process), and the engine's image references.
import type Docker from 'dockerode';
import { runCommand } from './command.ts';
import { defaultSocketPath, pingDocker } from './docker-engine.ts';
import { readPidfile } from './pidfile.ts';

export interface HostState {
  /** Names of the host's network links (`ip -o link`), e.g. `docker0`, `eth0`. */
  readonly links: readonly string[];
  /** The pid of the default dockerd when its engine answers (`unknown` without a pidfile); `undefined` when none answers. */
  readonly enginePid: number | 'unknown' | undefined;
}

/**
 * Devices an engine makes and removes with containers (`veth…`) and user networks (`br-<id>`): they
 * come and go with those, also another run's, and are removed with the run's containers and networks.
 */
const engineManaged = /^(veth[0-9a-f]{7}|br-[0-9a-f]{12})$/;

/** Names of the host's own network links (not those the engine manages), e.g. `docker0`, `eth0`. */
export async function hostLinks(): Promise<string[]> {
  const result = await runCommand('ip', ['-o', 'link', 'show']);
  if (result.code !== 0) return [];
  return result.stdout
    .split('\n')
    .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && !engineManaged.test(name))
    .sort();
}

export async function hostState(socketPath = defaultSocketPath): Promise<HostState> {
  const links = await hostLinks();
  if (!(await pingDocker(socketPath))) return { links, enginePid: undefined };
  const pid = socketPath === defaultSocketPath ? readPidfile('/var/run/docker.pid') : undefined;
  return { links, enginePid: pid ?? 'unknown' };
}

/** What differs in the host's network devices and engine after the run; empty when nothing does. */
export function hostDifferences(before: HostState, after: HostState, sharedWithOtherRuns: boolean): string[] {
  const problems: string[] = [];
  for (const link of before.links)
    if (!after.links.includes(link)) problems.push(`the host lost its network device ${link}`);
  // Containers of another run add veth devices of their own meanwhile.
  if (!sharedWithOtherRuns) {
    for (const link of after.links)
      if (!before.links.includes(link)) problems.push(`a network device was left on the host: ${link}`);
  }
  if (before.enginePid === undefined && after.enginePid !== undefined)
    problems.push('a Docker Engine the run started is still running');
  if (before.enginePid !== undefined && after.enginePid === undefined)
    problems.push('the Docker Engine that ran before the run no longer answers');
  if (
    typeof before.enginePid === 'number' &&
    typeof after.enginePid === 'number' &&
    before.enginePid !== after.enginePid
  )
    problems.push(`the Docker Engine was restarted (pid ${before.enginePid}, now ${after.enginePid})`);
  return problems;
}

/** Every image reference on the engine; an image with none stands for itself by its id. */
export async function imageReferences(docker: Docker): Promise<string[]> {
  const images = await docker.listImages({ all: false });
  const references = new Set<string>();
  for (const image of images) {
    const names = [
      ...(image.RepoTags ?? []).filter((tag) => tag !== '<none>:<none>'),
      ...(image.RepoDigests ?? []).filter((digest) => !digest.startsWith('<none>@')),
    ];
    if (names.length === 0) references.add(image.Id);
    for (const name of names) references.add(name);
  }
  return [...references].sort();
}
