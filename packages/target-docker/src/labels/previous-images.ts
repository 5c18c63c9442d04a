import { type Logger, silentLogger } from '@docker-watcher/core';
import type Docker from 'dockerode';
import { statusOf } from '../_errors.ts';
import { dockerHealthReport } from '../_health.ts';
import { markerRepository } from '../_names.ts';
import { parseImageName } from './image-name.ts';

/** How long the image a container ran before an in-place update is kept: ms, or `'never'` removed. */
export type KeepPreviousImage = number | 'never';

/** Ten minutes: a rollback in that time finds the old image on the engine, without the registry. */
export const defaultKeepPreviousImageMs = 10 * 60_000;

/** The image a labelled container ran before an update that passed its gate. */
export interface PreviousImage {
  /** The container's name (the new container holds it now). */
  readonly name: string;
  readonly project: string;
  readonly stage: string;
  /** The old image's id. */
  readonly imageId: string;
  /** The reference the container was created from, e.g. `registry.example.com/team/web:latest`. */
  readonly reference: string;
}

export interface PreviousImageKeeper {
  /** The update of `previous.name` passed its gate: the old image goes after the grace period. */
  retired(previous: PreviousImage): void;
  /** Forgets every waiting removal (the images stay). */
  dispose(): void;
}

/**
 * Keeps the image of the container an update replaced for a grace period, so that rolling back in
 * that time needs no registry; then removes this stage's references to it (its repository's tags
 * and digests, the pull markers), which deletes the image unless something else still names it.
 * It stays when a container uses it, or when the container under the name is not running healthy
 * at the end of the grace period (a rollback may still want it). Waiting removals live in memory:
 * after a restart the image stays, which loses nothing.
 */
export function createPreviousImageKeeper(params: {
  readonly docker: Docker;
  readonly keep: KeepPreviousImage;
  readonly logger?: Logger;
}): PreviousImageKeeper {
  const { docker, keep } = params;
  const logger = params.logger ?? silentLogger;
  const timers = new Set<NodeJS.Timeout>();

  const holderHealthy = async (previous: PreviousImage) => {
    const info = await docker
      .getContainer(previous.name)
      .inspect()
      .catch(() => undefined);
    if (!info?.State.Running || info.Image === previous.imageId) return false;
    const own = dockerHealthReport(info);
    return own === undefined || own.status === 'healthy';
  };

  const inUse = async (imageId: string) => {
    const containers = await docker.listContainers({ all: true });
    return containers.some((container) => container.ImageID === imageId);
  };

  const remove = async (previous: PreviousImage) => {
    const repository = parseImageName(previous.reference)?.repository;
    const image = await docker
      .getImage(previous.imageId)
      .inspect()
      .catch(() => undefined);
    if (!image || !repository) return;
    if (!(await holderHealthy(previous)) || (await inUse(previous.imageId))) {
      logger.info('kept the previous image: it is in use, or the new container is not healthy', {
        container: previous.name,
        image: previous.imageId,
      });
      return;
    }
    const marker = `${markerRepository(previous.project, previous.stage)}:`;
    const references = [...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])].filter(
      (ref) => ref.startsWith(`${repository}:`) || ref.startsWith(`${repository}@`) || ref.startsWith(marker),
    );
    for (const ref of references) {
      try {
        await docker.getImage(ref).remove();
      } catch (error) {
        // Gone already (404), or taken into use since (409): what is left stays.
        if (statusOf(error) !== 404 && statusOf(error) !== 409) throw error;
      }
    }
    logger.info('removed the previous image', { container: previous.name, image: previous.imageId });
  };

  return {
    retired(previous) {
      if (keep === 'never') return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        remove(previous).catch((error: unknown) =>
          logger.warn('could not remove the previous image', {
            container: previous.name,
            image: previous.imageId,
            error: String(error),
          }),
        );
      }, keep);
      timer.unref();
      timers.add(timer);
    },
    dispose() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
