import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMemoryDeployTarget,
  createMemoryLogger,
  createMemoryRegistry,
  createMemoryReverseProxy,
  createRedactingLogger,
  type MemoryDeployTarget,
  type MemoryLogger,
  type MemoryRegistry,
} from '@docker-watcher/core';
import { createSqliteStateStore, type SqliteStateStore } from '@docker-watcher/store-sqlite';
import { type Composed, type ComposeOptions, compose } from '../src/compose.ts';
import { loadConfigText } from '../src/config/load.ts';
import { createApp } from '../src/http/app.ts';

export const tokens = {
  read: 'read-token-0123456789abcdef',
  deploy: 'deploy-token-0123456789abcdef',
  admin: 'admin-token-0123456789abcdef',
};
export const webhookSecret = 'webhook-secret-do-not-leak-42';
export const registryToken = 'registry-token-do-not-leak-77';

export const env = {
  DW_READ: tokens.read,
  DW_DEPLOY: tokens.deploy,
  DW_ADMIN: tokens.admin,
  HOOK_SECRET: webhookSecret,
};

export const configText = `
global:
  domain: example.test
  store: "memory:"
  target: { type: memory }
  proxy: { type: memory }
  poll_interval_seconds: 0
  server:
    webhook_body_limit: 2048
    tokens:
      - { name: reader, token_env: DW_READ, scopes: [read] }
      - { name: deployer, token_env: DW_DEPLOY, scopes: [deploy] }
      - { name: admin, token_env: DW_ADMIN, scopes: [admin] }
registries:
  local: { type: memory, webhook_secret_env: HOOK_SECRET }
projects:
  web-app:
    registry: local
    image: registry.test/team/web-app
    port: 3000
    healthcheck: { interval_ms: 10, timeout_ms: 50, retries: 2 }
    stages:
      dev: { tag_pattern: "dev-*", auto_deploy: true }
      rel: { tag_pattern: "v*" }
      prod: { tag_pattern: "v*", auto_deploy: true, confirm: true, promote_from: rel, subdomain: app }
`;

export interface Harness {
  composed: Composed;
  app: ReturnType<typeof createApp>;
  registry: MemoryRegistry;
  target: MemoryDeployTarget;
  store: SqliteStateStore;
  storeFile: string;
  logs: MemoryLogger;
  close(): Promise<void>;
}

/** An app composed from the test config with memory adapters and a SQLite store on a temp file. */
export async function harness(
  options: {
    start?: boolean;
    storeFile?: string;
    /** Another config (e.g. with users), and its environment. */
    config?: string;
    env?: Record<string, string>;
    checkResponses?: boolean;
    eventStream?: ComposeOptions['eventStream'];
  } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-server-'));
  const config = await loadConfigText(options.config ?? configText, { ...env, ...options.env });
  const registry = createMemoryRegistry({ webhookSecret });
  const target = createMemoryDeployTarget();
  const storeFile = options.storeFile ?? join(dir, 'state.db');
  const store = createSqliteStateStore({ path: storeFile });
  const logs = createMemoryLogger();
  const logger = createRedactingLogger(logs, { secrets: config.secrets });
  const composed = compose(config, {
    logger,
    store,
    target,
    proxy: createMemoryReverseProxy(),
    registries: { local: registry },
    // Not listening: a random replica name, as a server on a random port gets.
    listenPort: 0,
    ...(options.eventStream ? { eventStream: options.eventStream } : {}),
  });
  const app = createApp(composed, { heartbeatMs: 50, checkResponses: options.checkResponses ?? true });
  if (options.start !== false) await composed.engine.start();
  return {
    composed,
    app,
    registry,
    target,
    store,
    storeFile,
    logs,
    async close() {
      await composed.dispose();
      await store.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const auth = (token: string, extra: Record<string, string> = {}) => ({
  authorization: `Bearer ${token}`,
  ...extra,
});

export const post = (token: string | undefined, body?: unknown): RequestInit => ({
  method: 'POST',
  headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
  ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
});

export const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
