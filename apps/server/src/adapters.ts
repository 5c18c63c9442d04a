// The adapters the server can compose, one line per backend: adding one is adding its line. A
// backend's package is imported only when a config names its type, so a server holds in memory only
// the adapters it uses (and none of their dependencies, such as PostgreSQL's driver).
import {
  type Adapter,
  type AdapterDefinition,
  type AdapterKind,
  type DeployTarget,
  memoryDeployTarget,
  memoryRegistry,
  memoryReverseProxy,
  memoryStateStore,
  type Registry,
  type ReverseProxy,
  type StateStore,
} from '@docker-watcher/core';
import type * as v from 'valibot';

export type AnyDefinition<K extends AdapterKind, A extends Adapter> = AdapterDefinition<
  K,
  v.GenericSchema,
  A
>;

/** A type's adapter: its definition, and the options its type presets (Docker Hub's endpoint). */
export interface AdapterEntry<K extends AdapterKind, A extends Adapter> {
  readonly definition: AnyDefinition<K, A>;
  readonly presets?: Readonly<Record<string, unknown>>;
}

type Load<K extends AdapterKind, A extends Adapter> = () => Promise<AdapterEntry<K, A>>;

// Each definition's `create` takes its own options type; the table only hands it what its schema parsed.
const entry = <K extends AdapterKind, A extends Adapter>(definition: unknown, presets?: object) =>
  ({ definition, ...(presets ? { presets } : {}) }) as AdapterEntry<K, A>;

const registries = new Map<string, Load<'registry', Registry>>([
  ['oci', async () => entry((await import('@docker-watcher/registry-oci')).ociRegistry)],
  [
    'dockerhub',
    async () => {
      const oci = await import('@docker-watcher/registry-oci');
      return entry(oci.ociRegistry, oci.dockerHubRegistry());
    },
  ],
  ['gitea', async () => entry((await import('@docker-watcher/registry-gitea')).giteaRegistry)],
  ['ghcr', async () => entry((await import('@docker-watcher/registry-ghcr')).ghcrRegistry)],
  ['memory', async () => entry(memoryRegistry)],
]);

const targets = new Map<string, Load<'target', DeployTarget>>([
  ['docker', async () => entry((await import('@docker-watcher/target-docker')).dockerTarget)],
  ['nomad', async () => entry((await import('@docker-watcher/target-nomad')).nomadTarget)],
  ['memory', async () => entry(memoryDeployTarget)],
]);

const proxies = new Map<string, Load<'proxy', ReverseProxy>>([
  ['npm', async () => entry((await import('@docker-watcher/proxy-npm')).npmProxy)],
  ['caddy', async () => entry((await import('@docker-watcher/proxy-caddy')).caddyProxy)],
  ['memory', async () => entry(memoryReverseProxy)],
]);

const stores = new Map<string, Load<'store', StateStore>>([
  ['sqlite', async () => entry((await import('@docker-watcher/store-sqlite')).sqliteStateStore)],
  ['postgres', async () => entry((await import('@docker-watcher/store-postgres')).postgresStateStore)],
  ['memory', async () => entry(memoryStateStore)],
]);

const loaders = { registry: registries, target: targets, proxy: proxies, store: stores } as const;

/** The kinds of adapter a config chooses by `type`. */
export type ConfigKind = keyof typeof loaders;

/** Every type of each kind a config may name, in the order the docs list them. */
export const adapterTypes = (kind: ConfigKind): readonly string[] => [...loaders[kind].keys()];

/** Loaded adapters by kind and type: the ones a config names, or all of them. */
export interface AdapterTables {
  readonly registry: ReadonlyMap<string, AdapterEntry<'registry', Registry>>;
  readonly target: ReadonlyMap<string, AdapterEntry<'target', DeployTarget>>;
  readonly proxy: ReadonlyMap<string, AdapterEntry<'proxy', ReverseProxy>>;
  readonly store: ReadonlyMap<string, AdapterEntry<'store', StateStore>>;
}

/** The types of each kind to load; types no loader knows are left to the config's own checks. */
export type AdapterNeeds = { readonly [K in ConfigKind]?: Iterable<string> };

// A module is imported once per process; the entry of each type is kept.
const loaded = new Map<string, Promise<AdapterEntry<AdapterKind, Adapter>>>();

async function loadKind<K extends ConfigKind>(kind: K, types: Iterable<string> = []) {
  const table = new Map<string, AdapterEntry<AdapterKind, Adapter>>();
  for (const type of new Set(types)) {
    const load = loaders[kind].get(type) as Load<AdapterKind, Adapter> | undefined;
    if (!load) continue;
    const key = `${kind}:${type}`;
    let pending = loaded.get(key);
    if (!pending) {
      pending = load();
      loaded.set(key, pending);
      pending.catch(() => loaded.delete(key));
    }
    table.set(type, await pending);
  }
  return table as AdapterTables[K] extends ReadonlyMap<string, infer E> ? Map<string, E> : never;
}

/** Imports the adapters of the types named (and only those). */
export async function loadAdapters(needs: AdapterNeeds): Promise<AdapterTables> {
  const [registry, target, proxy, store] = await Promise.all([
    loadKind('registry', needs.registry),
    loadKind('target', needs.target),
    loadKind('proxy', needs.proxy),
    loadKind('store', needs.store),
  ]);
  return { registry, target, proxy, store };
}

/** Every adapter: for what describes them all (the JSON Schema, the config reference). */
export const loadAllAdapters = (): Promise<AdapterTables> =>
  loadAdapters({
    registry: adapterTypes('registry'),
    target: adapterTypes('target'),
    proxy: adapterTypes('proxy'),
    store: adapterTypes('store'),
  });
