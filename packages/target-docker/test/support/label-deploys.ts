// What the label-mode tests share: releases pushed as the `latest` a user's container runs, a pull
// as `docker pull` does it, and a deploy of one labelled container through core's real runner.
import {
  createEventBus,
  createMemoryStateStore,
  type DeployRecord,
  type DeployState,
  type DeployTarget,
  defaultHealthCheck,
  type HealthCheckSettings,
  type Release,
} from '@docker-watcher/core';
import { runDeploy } from '@docker-watcher/core/testing';
import { appFixture, type LocalRegistry, pushImage, startRegistry } from '@docker-watcher/testkit';
import type Docker from 'dockerode';

/** Pushes `source` as `repository:<tag>`; the release is what label mode sees of it: `latest` at its digest. */
export async function pushAsLatest(
  registry: LocalRegistry,
  params: { readonly source: string; readonly repository: string; readonly tag: string },
): Promise<Release> {
  return { tag: 'latest', digest: (await pushImage(registry, params)).digest };
}

/**
 * A registry of the test's own with `repository` in it: v2 under the tag `v2`, then v1 (or
 * `v1Source`) as `latest`, the tag the user's container runs.
 */
export async function startLabelRegistry(
  repository: string,
  options: { readonly v1Source?: string } = {},
): Promise<{ registry: LocalRegistry; image: string; v1: Release; v2: Release }> {
  const registry = await startRegistry();
  try {
    const v2 = await pushAsLatest(registry, { source: appFixture('v2').ref, repository, tag: 'v2' });
    const v1Source = options.v1Source ?? appFixture('v1').ref;
    const v1 = await pushAsLatest(registry, { source: v1Source, repository, tag: 'latest' });
    return { registry, image: `${registry.host}/${repository}`, v1, v2 };
  } catch (error) {
    // The caller never gets the registry to stop: it goes here.
    await registry.stop();
    throw error;
  }
}

/** Pulls `reference` into the engine, as `docker pull` would. */
export function pullImage(docker: Docker, reference: string): Promise<void> {
  return new Promise<void>((resolve, reject) =>
    docker.pull(reference, (error: unknown, stream: NodeJS.ReadableStream) =>
      error ? reject(error) : docker.modem.followProgress(stream, (e) => (e ? reject(e) : resolve())),
    ),
  );
}

/**
 * Runs a deploy of the labelled container `project` (stage `live`) from `previous` to `release`
 * through core's runner: a new one from `pending`, or one as a killed server left it (`state`,
 * `data`). Returns its record and its log lines.
 */
export async function runLabelDeploy(params: {
  readonly target: DeployTarget;
  readonly project: string;
  readonly image: string;
  readonly deployId: string;
  readonly release: Release;
  readonly previous: Release;
  readonly state?: DeployState;
  readonly data?: Record<string, unknown>;
  readonly health?: HealthCheckSettings;
}): Promise<{ readonly record: DeployRecord; readonly log: readonly string[] }> {
  const { target, project, image, deployId, release, previous } = params;
  const store = createMemoryStateStore();
  await store.createDeploy({
    deploy: {
      id: deployId,
      project,
      stage: 'live',
      release,
      previous,
      trigger: 'auto',
      state: params.state ?? 'pending',
      data: params.data ?? {},
    },
  });
  const record = await runDeploy(
    { store, target, bus: createEventBus() },
    {
      deployId,
      settings: { image, strategy: 'blue-green', health: params.health ?? defaultHealthCheck },
    },
  );
  const log = (await store.readLog({ deployId })).map((line) => line.line);
  return { record, log };
}
