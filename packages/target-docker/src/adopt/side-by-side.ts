import type Docker from 'dockerode';
import { networkEndpoints, recreatePlan } from './recreate-body.ts';

type Json = Record<string, unknown>;

/** An endpoint without the aliases that carry the stage's traffic: the new container is not reached yet. */
const unreached = (endpoint: Json): Json => {
  const { Aliases: _aliases, ...rest } = endpoint;
  return rest;
};

/**
 * Creates and starts a container like `old` (same configuration and networks, the new image) under
 * `name`, beside `old`. It joins `old`'s networks without their aliases, so that nothing sends it a
 * request before it passed its gate (`takeOver` gives it the aliases).
 */
export async function startBeside(
  docker: Docker,
  params: {
    readonly old: Docker.ContainerInspectInfo;
    readonly oldImage: Docker.ImageInspectInfo;
    readonly image: string;
    readonly name: string;
  },
): Promise<Docker.ContainerInspectInfo> {
  const plan = recreatePlan({ old: params.old, oldImage: params.oldImage });
  const [primary, ...more] = networkEndpoints(params.old);
  const created = await docker.createContainer({
    ...plan.body,
    Image: params.image,
    name: params.name,
    ...(primary
      ? { NetworkingConfig: { EndpointsConfig: { [primary.network]: unreached(primary.endpoint) } } }
      : {}),
  });
  for (const { network, endpoint } of more)
    await docker.getNetwork(network).connect({ Container: created.id, EndpointConfig: unreached(endpoint) });
  await created.start();
  return created.inspect();
}

/**
 * The new container gets, on each of `old`'s networks, `old`'s aliases and also the user's name as
 * one (so that the name resolves to it while the two swap names): from here both serve. Docker sets
 * aliases only when a container joins a network, so it leaves and joins again each network where it
 * lacks one; done again after a crash, it changes nothing more.
 */
export async function takeOver(
  docker: Docker,
  params: {
    readonly old: Docker.ContainerInspectInfo;
    readonly next: Docker.ContainerInspectInfo;
    readonly name: string;
  },
): Promise<void> {
  for (const { network, endpoint } of networkEndpoints(params.old)) {
    const wanted = [...new Set([...((endpoint.Aliases as string[] | undefined) ?? []), params.name])];
    const joined = params.next.NetworkSettings?.Networks?.[network] as unknown as Json | undefined;
    const has = new Set((joined?.Aliases as string[] | null | undefined) ?? []);
    if (joined && wanted.every((alias) => has.has(alias))) continue;
    if (joined) await docker.getNetwork(network).disconnect({ Container: params.next.Id });
    await docker
      .getNetwork(network)
      .connect({ Container: params.next.Id, EndpointConfig: { ...endpoint, Aliases: wanted } });
  }
}
