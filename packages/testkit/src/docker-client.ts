import Docker from 'dockerode';
import { defaultSocketPath } from './docker-engine.ts';
import { testkitLabel } from './labels.ts';

let client: Docker | undefined;

/** One dockerode client per process, on the engine `ensureDockerEngine` made sure of. */
export function dockerClient(): Docker {
  client ??= new Docker({ socketPath: process.env.DW_DOCKER_SOCKET ?? defaultSocketPath });
  return client;
}

/**
 * Removes every container and network the testkit created, also those a crashed run left behind.
 * With `pid`, only those of that process.
 */
export async function removeTestkitResources(docker: Docker = dockerClient(), pid?: number): Promise<number> {
  const label = pid === undefined ? `${testkitLabel}=true` : `${testkitLabel}.pid=${pid}`;
  const containers = await docker.listContainers({ all: true, filters: { label: [label] } });
  await Promise.all(
    containers.map((info) =>
      docker
        .getContainer(info.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  const networks = await docker.listNetworks({ filters: { label: [label] } });
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
