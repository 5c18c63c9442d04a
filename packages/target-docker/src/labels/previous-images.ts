import { createHash } from 'node:crypto';
import { type Logger, silentLogger } from '@docker-watcher/core';
import type Docker from 'dockerode';
import { statusOf } from '../_errors.ts';
import { dockerHealthReport } from '../_health.ts';
import { markerRepository } from '../_names.ts';
import { parseImageName } from './image-name.ts';
import { type LabelModeOptions, parseContainerLabels } from './parse-labels.ts';

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
  retired(previous: PreviousImage): Promise<void>;
  /**
   * Takes up the removals an earlier keeper (a server before its restart) left waiting, as their
   * marks on the engine say, for the labelled containers `labelMode` watches (others are left alone).
   */
  resume(labelMode: LabelModeOptions): Promise<void>;
  /** Forgets every waiting removal (the images and their marks stay). */
  dispose(): void;
}

/**
 * The mark a waiting removal leaves on the image: `docker-watcher-keep/<the container name in hex>`
 * tagged with the second it is due, so that a restarted server finds it (and it keeps the image named).
 * The engine refuses a repository name over 255 characters: a name too long for hex is marked by its
 * hash (`h<40 hex>`), and found again among the containers.
 */
const keepPrefix = 'docker-watcher-keep/';
const maxRepositoryLength = 255;
const nameHash = (name: string) => createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 40);

export function keepRepository(name: string): string {
  const hex = Buffer.from(name, 'utf8').toString('hex');
  return keepPrefix.length + hex.length <= maxRepositoryLength
    ? `${keepPrefix}${hex}`
    : `${keepPrefix}h${nameHash(name)}`;
}

/** Whose removal a mark is (the container's name, or its hash) and when it is due. */
export type KeepMark = ({ readonly name: string } | { readonly hash: string }) & { readonly dueMs: number };

export function parseKeepMark(reference: string): KeepMark | undefined {
  const match = /^docker-watcher-keep\/(?:((?:[0-9a-f]{2})+)|h([0-9a-f]{40})):(\d{1,12})$/.exec(reference);
  if (!match) return undefined;
  const dueMs = Number(match[3]) * 1000;
  return match[1]
    ? { name: Buffer.from(match[1], 'hex').toString('utf8'), dueMs }
    : { hash: match[2]!, dueMs };
}

/** The container a mark names: by hash, among the engine's containers (looked up once per resume). */
function markedName(docker: Docker, logger: Logger): (mark: KeepMark) => Promise<string | undefined> {
  let byHash: Promise<Map<string, string>> | undefined;
  return async (mark) => {
    if ('name' in mark) return mark.name;
    byHash ??= docker.listContainers({ all: true }).then(
      (containers) => {
        const names = new Map<string, string>();
        for (const container of containers)
          for (const name of container.Names ?? [])
            names.set(nameHash(name.replace(/^\//, '')), name.replace(/^\//, ''));
        return names;
      },
      (error: unknown) => {
        // The marks by hash wait for the next start; those by name are taken up now.
        logger.warn('could not list the containers to find the long names of waiting removals', {
          error: String(error),
        });
        return new Map<string, string>();
      },
    );
    return (await byHash).get(mark.hash);
  };
}

/**
 * Keeps the image of the container an update replaced for a grace period, so that rolling back in
 * that time needs no registry; then removes this stage's references to it (its repository's tags
 * and digests, the pull markers), which deletes the image unless something else still names it.
 * It stays when a container uses it, or when the container under the name is not running healthy
 * at the end of the grace period (a rollback may still want it). Each waiting removal is marked on
 * the image itself (`keepMark`), so that `resume` after a restart removes it when it is due.
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
    const mine = `${keepRepository(previous.name)}:`;
    const references = [...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])].filter(
      (ref) =>
        ref.startsWith(`${repository}:`) ||
        ref.startsWith(`${repository}@`) ||
        ref.startsWith(marker) ||
        ref.startsWith(mine),
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

  const schedule = (previous: PreviousImage, ms: number) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      remove(previous).catch((error: unknown) =>
        logger.warn('could not remove the previous image', {
          container: previous.name,
          image: previous.imageId,
          error: String(error),
        }),
      );
    }, ms);
    timer.unref();
    timers.add(timer);
  };

  return {
    async retired(previous) {
      if (keep === 'never') return;
      const due = String(Math.ceil((Date.now() + keep) / 1000));
      if (keep > 0)
        await docker
          .getImage(previous.imageId)
          .tag({ repo: keepRepository(previous.name), tag: due })
          .catch((error: unknown) =>
            logger.warn('could not mark the previous image for its removal after a restart', {
              image: previous.imageId,
              error: String(error),
            }),
          );
      schedule(previous, keep);
    },
    async resume(labelMode) {
      const nameOf = markedName(docker, logger);
      for (const image of await docker.listImages()) {
        for (const reference of image.RepoTags ?? []) {
          const mark = parseKeepMark(reference);
          const name = mark && (await nameOf(mark));
          if (!mark || !name) continue;
          const holder = await docker
            .getContainer(name)
            .inspect()
            .catch(() => undefined);
          if (!holder) continue;
          const facts = {
            id: holder.Id,
            name,
            image: holder.Config.Image,
            labels: holder.Config.Labels ?? {},
          };
          const verdict = parseContainerLabels(facts, labelMode);
          if (verdict.kind !== 'stage') continue;
          const { project, stage } = verdict.stage;
          const previous = { name, project, stage, imageId: image.Id, reference: facts.image };
          schedule(previous, Math.max(0, mark.dueMs - Date.now()));
        }
      }
    },
    dispose() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
