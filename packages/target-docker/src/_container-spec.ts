import { type InstanceSpec, imageReference } from '@docker-watcher/core';
import type Docker from 'dockerode';
import { containerLabels } from './_names.ts';
import type { StageSettings } from './_settings.ts';

/** The parts of an image's config the target fills defaults from (its `HEALTHCHECK` is read at run time). */
export interface ImageFacts {
  /** `EXPOSE`d TCP ports, lowest first (the engine keeps them in a map: there is no image order). */
  readonly exposed: readonly number[];
}

export function imageFacts(info: Docker.ImageInspectInfo): ImageFacts {
  const exposed = Object.keys(info.Config?.ExposedPorts ?? {})
    .map((key) => /^(\d+)(?:\/tcp)?$/.exec(key)?.[1])
    .filter((port): port is string => port !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
  return { exposed };
}

/** The spec's port, else the image's lowest `EXPOSE`d TCP port. */
export function containerPort(spec: InstanceSpec, image: ImageFacts): number | undefined {
  return spec.port ?? image.exposed[0];
}

export interface CreateInput {
  readonly name: string;
  readonly spec: InstanceSpec;
  readonly settings: StageSettings;
  /** Env files, already read. */
  readonly fileEnv: Readonly<Record<string, string>>;
  readonly port: number | undefined;
  readonly network: string;
  readonly publishHost: string;
  readonly stopTimeoutSeconds: number;
  /** The target's `instance`, written as a label. */
  readonly instance?: string;
}

/** `POST /containers/create` body of a deploy's container. */
export function createOptions(input: CreateInput): Docker.ContainerCreateOptions {
  const { spec, settings, port } = input;
  const env = { ...input.fileEnv, ...settings.env, ...spec.env };
  const portKey = port === undefined ? undefined : `${port}/tcp`;
  const publish = portKey !== undefined && settings.publish !== false;
  return {
    name: input.name,
    Image: imageReference(spec.image, spec.release),
    Env: Object.entries(env).map(([key, value]) => `${key}=${value}`),
    Labels: containerLabels(spec, port, settings.labels, input.instance),
    ...(portKey === undefined ? {} : { ExposedPorts: { [portKey]: {} } }),
    StopTimeout: input.stopTimeoutSeconds,
    HostConfig: {
      NetworkMode: input.network,
      RestartPolicy: { Name: settings.restartPolicy === 'no' ? '' : settings.restartPolicy },
      ...(settings.volumes.length === 0 ? {} : { Binds: [...settings.volumes] }),
      ...(settings.memory === undefined ? {} : { Memory: settings.memory }),
      ...(settings.cpus === undefined ? {} : { NanoCpus: Math.round(settings.cpus * 1e9) }),
      ...(publish
        ? {
            PortBindings: {
              [portKey]: [
                {
                  HostIp: input.publishHost,
                  HostPort: typeof settings.publish === 'number' ? String(settings.publish) : '',
                },
              ],
            },
          }
        : {}),
    },
  };
}
