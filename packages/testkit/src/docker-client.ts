import Docker from 'dockerode';
import { defaultSocketPath } from './docker-engine.ts';
import { ownerLabel, testkitLabel, testkitOwner } from './labels.ts';

let client: Docker | undefined;

/** One dockerode client per process, on the engine `ensureDockerEngine` made sure of. */
export function dockerClient(): Docker {
  client ??= new Docker({ socketPath: process.env.DW_DOCKER_SOCKET ?? defaultSocketPath });
  return client;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes containers and networks the testkit created: those of one run (by default this one), or
 * with `'orphans'` those whose run has ended (what a crashed run left behind). Runs side by side
 * never remove each other's resources.
 */
export async function removeTestkitResources(
  docker: Docker = dockerClient(),
  owner: number | 'orphans' = testkitOwner(),
): Promise<number> {
  const label = owner === 'orphans' ? `${testkitLabel}=true` : `${ownerLabel}=${owner}`;
  const ours = (labels: Record<string, string> | undefined) => {
    if (owner !== 'orphans') return true;
    const pid = Number(labels?.[ownerLabel]);
    return !Number.isInteger(pid) || pid <= 0 || !processAlive(pid);
  };
  const containers = (await docker.listContainers({ all: true, filters: { label: [label] } })).filter(
    (info) => ours(info.Labels),
  );
  await Promise.all(
    containers.map((info) =>
      docker
        .getContainer(info.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  const networks = (await docker.listNetworks({ filters: { label: [label] } })).filter((info) =>
    ours(info.Labels),
  );
  await Promise.all(
    networks.map((info) =>
      docker
        .getNetwork(info.Id)
        .remove()
        .catch(() => undefined),
    ),
  );
  return containers.length + networks.length;
}
