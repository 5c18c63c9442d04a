// The adapters the server can compose, one line per backend: adding one is adding its line.
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
import { ghcrRegistry } from '@docker-watcher/registry-ghcr';
import { giteaRegistry } from '@docker-watcher/registry-gitea';
import { ociRegistry } from '@docker-watcher/registry-oci';
import { postgresStateStore } from '@docker-watcher/store-postgres';
import { sqliteStateStore } from '@docker-watcher/store-sqlite';
import { dockerTarget } from '@docker-watcher/target-docker';
import type * as v from 'valibot';

export type AnyDefinition<K extends AdapterKind, A extends Adapter> = AdapterDefinition<
  K,
  v.GenericSchema,
  A
>;

// Each definition's `create` takes its own options type; the table only hands it what its schema parsed.
const as = <K extends AdapterKind, A extends Adapter>(definition: unknown) =>
  definition as AnyDefinition<K, A>;

/** Registry type in the config -> definition. */
export const registryAdapters: Readonly<Record<string, AnyDefinition<'registry', Registry>>> = {
  oci: as(ociRegistry),
  dockerhub: as(ociRegistry),
  gitea: as(giteaRegistry),
  ghcr: as(ghcrRegistry),
  memory: as(memoryRegistry),
};

/** `nomad` arrives with @docker-watcher/target-nomad. */
export const targetAdapters: Readonly<Record<string, AnyDefinition<'target', DeployTarget>>> = {
  docker: as(dockerTarget),
  memory: as(memoryDeployTarget),
};

/** `npm` and `caddy` arrive with @docker-watcher/proxy-npm and @docker-watcher/proxy-caddy. */
export const proxyAdapters: Readonly<Record<string, AnyDefinition<'proxy', ReverseProxy>>> = {
  memory: as(memoryReverseProxy),
};

export const storeAdapters: Readonly<Record<string, AnyDefinition<'store', StateStore>>> = {
  sqlite: as(sqliteStateStore),
  postgres: as(postgresStateStore),
  memory: as(memoryStateStore),
};

/** Where a backend that has no line above will come from, for the error message. */
export const pendingPackages: Readonly<Record<string, string>> = {
  nomad: '@docker-watcher/target-nomad',
  npm: '@docker-watcher/proxy-npm',
  caddy: '@docker-watcher/proxy-caddy',
};
