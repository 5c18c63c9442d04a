import type { dockerClient } from '@docker-watcher/testkit';

type Docker = ReturnType<typeof dockerClient>;

/**
 * Removes what a deploy benchmark left on the engine: containers carrying `label`, the network, the images
 * it pulled by digest, the target's pull records (`docker-watcher-pulled/<markerPrefix>…`) and label mode's
 * marks of previous images of containers named `<markerPrefix>…`. Best effort:
 * whatever is gone already is fine.
 */
export async function removeDeployed(
  docker: Docker,
  params: { label: string; network: string; images: readonly string[]; markerPrefix: string },
): Promise<void> {
  const ignore = () => undefined;
  for (const info of await docker.listContainers({ all: true, filters: { label: [params.label] } }))
    await docker.getContainer(info.Id).remove({ force: true }).catch(ignore);
  await docker.getNetwork(params.network).remove().catch(ignore);
  for (const image of params.images) await docker.getImage(image).remove().catch(ignore);
  const markers = (await docker.listImages()).flatMap((info) => info.RepoTags ?? []);
  for (const tag of markers.filter((t) => t.startsWith(`docker-watcher-pulled/${params.markerPrefix}`)))
    await docker.getImage(tag).remove().catch(ignore);
  // Label mode's marks of previous images waiting for removal (`docker-watcher-keep/<name in hex>:<due>`).
  const keptFor = (tag: string) =>
    Buffer.from(/^docker-watcher-keep\/([0-9a-f]+):/.exec(tag)?.[1] ?? '', 'hex');
  for (const tag of markers.filter((t) => keptFor(t).toString('utf8').startsWith(params.markerPrefix)))
    await docker.getImage(tag).remove().catch(ignore);
}
