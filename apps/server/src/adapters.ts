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
import { caddyProxy } from '@docker-watcher/proxy-caddy';
import { npmProxy } from '@docker-watcher/proxy-npm';
import { ghcrRegistry } from '@docker-watcher/registry-ghcr';
import { giteaRegistry } from '@docker-watcher/registry-gitea';
import { ociRegistry } from '@docker-watcher/registry-oci';
import { postgresStateStore } from '@docker-watcher/store-postgres';
import { sqliteStateStore } from '@docker-watcher/store-sqlite';
import { dockerTarget } from '@docker-watcher/target-docker';
import { nomadTarget } from '@docker-watcher/target-nomad';
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

export const targetAdapters: Readonly<Record<string, AnyDefinition<'target', DeployTarget>>> = {
  docker: as(dockerTarget),
  nomad: as(nomadTarget),
  memory: as(memoryDeployTarget),
};

export const proxyAdapters: Readonly<Record<string, AnyDefinition<'proxy', ReverseProxy>>> = {
  npm: as(npmProxy),
  caddy: as(caddyProxy),
  memory: as(memoryReverseProxy),
};

export const storeAdapters: Readonly<Record<string, AnyDefinition<'store', StateStore>>> = {
  sqlite: as(sqliteStateStore),
  postgres: as(postgresStateStore),
  memory: as(memoryStateStore),
};
