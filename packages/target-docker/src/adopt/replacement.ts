import type Docker from 'dockerode';
import { updateModeOf } from '../labels/stage-settings.ts';

/**
 * How an update replaces a labelled container. Side by side, the new container starts beside the
 * old one and takes over once it passed its gate, so no request meets a stopped service; in place,
 * the old one stops first, because two cannot run at once (with the reason why).
 */
export type Replacement =
  | { readonly mode: 'side-by-side' }
  | { readonly mode: 'in-place'; readonly reason: string };

type Json = Record<string, unknown>;

/** A port bound to a fixed host port (not a random one): a second container could not bind it. */
function fixedHostPort(info: Docker.ContainerInspectInfo): string | undefined {
  const bindings = (info.HostConfig.PortBindings ?? {}) as Record<
    string,
    Array<{ HostIp?: string; HostPort?: string }> | null
  >;
  for (const [port, list] of Object.entries(bindings)) {
    const fixed = (list ?? []).find(
      (b) => b.HostPort !== undefined && b.HostPort !== '' && b.HostPort !== '0',
    );
    if (fixed) return `${fixed.HostIp ? `${fixed.HostIp}:` : ''}${fixed.HostPort}->${port}`;
  }
  return undefined;
}

/** A network on which the container has an address of its own choosing: a second one could not take it. */
function staticAddress(info: Docker.ContainerInspectInfo): string | undefined {
  for (const [network, endpoint] of Object.entries(info.NetworkSettings?.Networks ?? {})) {
    const ipam = (endpoint as unknown as Json).IPAMConfig as Json | null | undefined;
    if (ipam?.IPv4Address || ipam?.IPv6Address) return network;
  }
  return undefined;
}

/** A volume or bind mount the container writes: two containers would write it at once. */
function writableMount(info: Docker.ContainerInspectInfo): string | undefined {
  return (info.Mounts ?? []).find((mount) => mount.RW && (mount.Type === 'volume' || mount.Type === 'bind'))
    ?.Destination;
}

/**
 * Side by side when the container is reached by name or alias on a user-defined network (or
 * through a proxy there) and nothing it holds can be held twice; in place otherwise. The label
 * `docker-watcher.update=in-place` always asks for in place; `side-by-side` lets two containers share
 * the container's writable mounts for the few seconds of the switch (ports, addresses and network
 * namespaces still cannot be shared).
 */
export function replacementOf(info: Docker.ContainerInspectInfo): Replacement {
  const asked = updateModeOf(info.Config.Labels ?? {});
  if (asked === 'in-place') return { mode: 'in-place', reason: 'docker-watcher.update=in-place' };
  const mode = String(info.HostConfig.NetworkMode ?? 'default');
  if (mode === 'host' || mode === 'none' || mode.startsWith('container:'))
    return {
      mode: 'in-place',
      reason: `network_mode ${mode.startsWith('container:') ? 'container:…' : mode}`,
    };
  if (mode === 'default' || mode === 'bridge')
    return {
      mode: 'in-place',
      reason: 'on the default bridge network, where nothing reaches a container by name',
    };
  const port = fixedHostPort(info);
  if (port) return { mode: 'in-place', reason: `fixed host port ${port}` };
  const network = staticAddress(info);
  if (network) return { mode: 'in-place', reason: `static IP address on network ${network}` };
  const mount = asked === 'side-by-side' ? undefined : writableMount(info);
  if (mount) return { mode: 'in-place', reason: `writes to a mount at ${mount}` };
  return { mode: 'side-by-side' };
}
