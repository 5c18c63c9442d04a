import type Docker from 'dockerode';
import { statusOf } from '../_errors.ts';
import { recreatePlan } from './recreate-body.ts';

/**
 * Containers that depend on another one: those that join its network namespace
 * (`network_mode: container:<it>`, which Docker records by id) and those with a legacy link to it
 * (`--link`, recorded by its current name). When that container is replaced, they keep pointing
 * at the one that went: a container sharing its network namespace has no network left. So they
 * follow it: each is created again, same configuration, pointing at the replacement.
 */
export async function dependentsOf(
  docker: Docker,
  of: Docker.ContainerInspectInfo,
): Promise<Docker.ContainerInspectInfo[]> {
  const joins = `container:${of.Id}`;
  // Legacy links exist only on the default bridge network: only its containers can link to `of`.
  const linkable = Object.hasOwn(of.NetworkSettings?.Networks ?? {}, 'bridge');
  const out: Docker.ContainerInspectInfo[] = [];
  for (const summary of await docker.listContainers({ all: true })) {
    if (summary.Id === of.Id) continue;
    const mode = summary.HostConfig?.NetworkMode ?? '';
    const candidate = mode === joins || (linkable && (mode === 'default' || mode === 'bridge'));
    if (!candidate) continue;
    const info = await inspectOrSkip(docker, summary.Id);
    if (!info) continue;
    if (
      mode === joins ||
      ((info.HostConfig.Links as string[] | undefined) ?? []).some((link) => linkedName(link) === of.Name)
    ) {
      out.push(info);
    }
  }
  return out;
}

/** `/web:/sidecar/app` (as inspected) or `web:app` (as given): the linked container's name, with its slash. */
function linkedName(link: string): string {
  const name = link.split(':')[0] ?? '';
  return name.startsWith('/') ? name : `/${name}`;
}

function linkAlias(link: string): string {
  const alias = link.split(':')[1] ?? link;
  return alias.slice(alias.lastIndexOf('/') + 1);
}

async function inspectOrSkip(docker: Docker, id: string) {
  try {
    return await docker.getContainer(id).inspect();
  } catch (error) {
    // Removed between the list and the inspect: nothing depends on anything any more.
    if (statusOf(error) === 404) return undefined;
    throw error;
  }
}

/** The image a container runs, by the reference it was created with when that still names it. */
async function imageOf(docker: Docker, info: Docker.ContainerInspectInfo): Promise<string> {
  try {
    const named = await docker.getImage(info.Config.Image).inspect();
    if (named.Id === info.Image) return info.Config.Image;
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
  return info.Image;
}

export interface FollowParams {
  /** The container the dependents point at now (as inspected while they did). */
  readonly from: Docker.ContainerInspectInfo;
  /** The container that replaces it. */
  readonly to: { readonly id: string; readonly name: string };
  /** Found with `dependentsOf(from)`, before `from` went. */
  readonly dependents: readonly Docker.ContainerInspectInfo[];
  readonly onLog?: (line: string) => void;
}

/**
 * While a dependent is created again, the old one waits under `<name>.dw-replaced.<its id>`: the
 * name it had, which a re-creation after a crash takes back.
 */
const replacedMarker = '.dw-replaced.';
const replacedName = (name: string, id: string) => `${name}${replacedMarker}${id.slice(0, 12)}`;
/** The dependent's own name, also while it waits as replaced. */
const nameOf = (info: Docker.ContainerInspectInfo) => {
  const name = info.Name.slice(1);
  const at = name.lastIndexOf(replacedMarker);
  return at > 0 ? name.slice(0, at) : name;
};

/**
 * Creates each dependent again, pointing at `to`: the old one is set aside, the new one created
 * under its name (started when the old one ran), the dependents of the old one follow the new one
 * in turn (a chain of `container:` modes), and only then the old one is removed; on a failure the
 * old one is put back. A server killed at any point leaves the old one (set aside or not), still
 * pointing at `from`, so that the next `dependentsOf(from)` finds it and doing this again finishes
 * the job: a new one half made by the killed attempt is replaced.
 */
export async function followReplacement(docker: Docker, params: FollowParams, depth = 0): Promise<void> {
  // A chain longer than this is a cycle Docker would not have created: stop rather than loop.
  if (depth > 8) return;
  for (const dependent of params.dependents) {
    const next = await dependentsOf(docker, dependent);
    const created = await recreateDependent(docker, dependent, params);
    const name = nameOf(dependent);
    params.onLog?.(`re-created ${name}, which depends on ${params.to.name}`);
    if (next.length > 0) {
      await followReplacement(
        docker,
        { ...params, from: dependent, to: { id: created, name }, dependents: next },
        depth + 1,
      );
    }
    await docker
      .getContainer(dependent.Id)
      .remove({ force: true })
      .catch((error: unknown) => {
        if (statusOf(error) !== 404) throw error;
      });
  }
}

async function recreateDependent(
  docker: Docker,
  dependent: Docker.ContainerInspectInfo,
  { from, to }: FollowParams,
): Promise<string> {
  const name = nameOf(dependent);
  const plan = recreatePlan({ old: dependent, oldImage: await docker.getImage(dependent.Image).inspect() });
  const host = { ...(plan.body.HostConfig as Record<string, unknown>) };
  const joins = host.NetworkMode === `container:${from.Id}`;
  if (joins) host.NetworkMode = `container:${to.id}`;
  const links = (host.Links as string[] | null | undefined) ?? [];
  if (links.length > 0) {
    host.Links = links.map((link) =>
      linkedName(link) === from.Name
        ? `${to.name}:${linkAlias(link)}`
        : `${linkedName(link).slice(1)}:${linkAlias(link)}`,
    );
  }
  // A container in another's network namespace has that one's hostname: Docker refuses to be told one.
  const { Hostname: _hostname, ...body } = plan.body;
  const old = docker.getContainer(dependent.Id);
  const resumed = dependent.Name.slice(1) !== name;
  // Set aside by a killed attempt, it may have been stopped by it: one that ever ran runs again.
  const running = dependent.State.Running || (resumed && !dependent.State.StartedAt.startsWith('0001-'));
  if (!resumed) await old.rename({ name: replacedName(name, dependent.Id) });
  // One under the name already is a re-creation a killed server left half made (maybe not started).
  await docker
    .getContainer(name)
    .remove({ force: true })
    .catch((error: unknown) => {
      if (statusOf(error) !== 404) throw error;
    });
  let created: Docker.Container | undefined;
  try {
    created = await docker.createContainer({
      ...(joins ? body : plan.body),
      HostConfig: host as Docker.HostConfig,
      Image: await imageOf(docker, dependent),
      name,
    });
    for (const { network, endpoint } of plan.more)
      await docker.getNetwork(network).connect({ Container: created.id, EndpointConfig: endpoint });
    if (running) {
      await old
        .stop({ t: (dependent.Config as { StopTimeout?: number }).StopTimeout ?? 10 })
        .catch((error: unknown) => {
          if (statusOf(error) !== 304) throw error;
        });
      await created.start();
    }
  } catch (error) {
    await created?.remove({ force: true }).catch(() => undefined);
    await old.rename({ name }).catch(() => undefined);
    if (running) await old.start().catch(() => undefined);
    throw error;
  }
  return created.id;
}
