import { isDeepStrictEqual } from 'node:util';
import type Docker from 'dockerode';

type Json = Record<string, unknown>;

/** Entries of `own` that the image did not give (or gave with another value): what the user set. */
function ownEntries(own: readonly string[] | undefined, fromImage: readonly string[] | undefined) {
  const image = new Set(fromImage ?? []);
  return (own ?? []).filter((entry) => !image.has(entry));
}

function ownRecord<T>(
  own: Readonly<Record<string, T>> | undefined,
  fromImage: Readonly<Record<string, T>> | undefined,
) {
  const out: Record<string, T> = Object.create(null);
  for (const [key, value] of Object.entries(own ?? {})) {
    if (!fromImage || !Object.hasOwn(fromImage, key) || !isDeepStrictEqual(fromImage[key], value))
      out[key] = value;
  }
  return { ...out };
}

/** A setting the container has from its old image is left to the new image; one the user set is kept. */
function unlessFromImage<T>(own: T | undefined, fromImage: T | undefined): T | undefined {
  if (own === undefined || own === null) return undefined;
  return isDeepStrictEqual(own, fromImage) ? undefined : own;
}

/** Anonymous volumes (an image `VOLUME` no bind or named mount covers) are mounted again by name, so data stays. */
function anonymousVolumes(
  info: Docker.ContainerInspectInfo,
): Array<{ Type: 'volume'; Source: string; Target: string }> {
  const named = new Set([
    ...(info.HostConfig.Binds ?? []).map((bind) => bind.split(':')[1]),
    ...(((info.HostConfig as Json).Mounts as Array<{ Target?: string }> | undefined) ?? []).map(
      (m) => m.Target,
    ),
  ]);
  return (info.Mounts ?? [])
    .filter((m) => m.Type === 'volume' && m.Name && !named.has(m.Destination))
    .map((m) => ({ Type: 'volume' as const, Source: m.Name!, Target: m.Destination }));
}

/** Aliases Docker gives every container itself (its short id): not the user's. */
function endpointOf(id: string, info: Docker.NetworkInfo): Json {
  const endpoint = info as unknown as Json;
  const aliases = ((endpoint.Aliases as string[] | null | undefined) ?? []).filter(
    (alias) => !id.startsWith(alias),
  );
  const ipam = endpoint.IPAMConfig as Json | null | undefined;
  return {
    ...(aliases.length > 0 ? { Aliases: aliases } : {}),
    ...(ipam && Object.keys(ipam).length > 0 ? { IPAMConfig: ipam } : {}),
    ...(endpoint.Links ? { Links: endpoint.Links } : {}),
    ...(endpoint.DriverOpts ? { DriverOpts: endpoint.DriverOpts } : {}),
  };
}

/**
 * The networks a container joined and its settings on each, the primary one (`NetworkMode`) first;
 * none when it shares another's network stack (`host`, `none`, `container:`).
 */
export function networkEndpoints(
  info: Docker.ContainerInspectInfo,
): Array<{ readonly network: string; readonly endpoint: Json }> {
  const mode = String(info.HostConfig.NetworkMode ?? 'default');
  if (/^(host|none|container:)/.test(mode)) return [];
  const networks = Object.entries(info.NetworkSettings?.Networks ?? {});
  const primary = networks.find(([name]) => name === mode) ?? networks[0];
  if (!primary) return [];
  return [primary, ...networks.filter((entry) => entry !== primary)].map(([network, endpoint]) => ({
    network,
    endpoint: endpointOf(info.Id, endpoint),
  }));
}

export interface RecreatePlan {
  /** `POST /containers/create` body (without the name), attached to the first network. */
  readonly body: Docker.ContainerCreateOptions;
  /** The other networks, each connected before the start (engines before API 1.44 take one at create). */
  readonly more: ReadonlyArray<{ readonly network: string; readonly endpoint: Json }>;
}

/**
 * The create body of a container like `old`, for the new image: everything the user set (as
 * `docker run` or compose mapped it into the container's inspect) is kept; what came from the old
 * image (env, command, entrypoint, healthcheck, labels, working dir…) is left to the new one.
 */
export function recreatePlan(params: {
  readonly old: Docker.ContainerInspectInfo;
  readonly oldImage: Docker.ImageInspectInfo;
}): RecreatePlan {
  const { old, oldImage } = params;
  const config = old.Config as Docker.ContainerInspectInfo['Config'] & Json;
  const image = (oldImage.Config ?? {}) as Json;
  const keep = <K extends string>(key: K) => unlessFromImage(config[key], image[key]);
  const hostname = config.Hostname && !old.Id.startsWith(config.Hostname) ? config.Hostname : undefined;
  const anonymous = anonymousVolumes(old);
  const hostConfig = { ...(old.HostConfig as Json) };
  if (anonymous.length > 0) hostConfig.Mounts = [...((hostConfig.Mounts as unknown[]) ?? []), ...anonymous];
  const [primary, ...more] = networkEndpoints(old);
  const optional = (key: string, value: unknown) => (value === undefined ? {} : { [key]: value });
  const body: Docker.ContainerCreateOptions = {
    Image: config.Image,
    ...optional('Hostname', hostname),
    ...optional('Domainname', config.Domainname || undefined),
    ...optional('User', keep('User') || undefined),
    Tty: config.Tty,
    OpenStdin: config.OpenStdin,
    StdinOnce: config.StdinOnce,
    AttachStdin: config.AttachStdin,
    AttachStdout: config.AttachStdout,
    AttachStderr: config.AttachStderr,
    Env: ownEntries(config.Env, image.Env as string[] | undefined),
    ...optional('Cmd', keep('Cmd')),
    ...optional('Entrypoint', keep('Entrypoint')),
    ...optional('Healthcheck', keep('Healthcheck')),
    ...optional('WorkingDir', keep('WorkingDir') || undefined),
    ...optional('StopSignal', keep('StopSignal')),
    ...optional('StopTimeout', config.StopTimeout),
    Labels: ownRecord(config.Labels ?? {}, (image.Labels as Record<string, string> | null) ?? undefined),
    ExposedPorts: ownRecord<object>(
      config.ExposedPorts,
      image.ExposedPorts as Record<string, object> | undefined,
    ),
    Volumes: ownRecord<object>(
      config.Volumes as Record<string, object> | undefined,
      image.Volumes as Record<string, object> | undefined,
    ),
    HostConfig: hostConfig as Docker.HostConfig,
    ...(primary ? { NetworkingConfig: { EndpointsConfig: { [primary.network]: primary.endpoint } } } : {}),
  };
  return { body, more };
}
