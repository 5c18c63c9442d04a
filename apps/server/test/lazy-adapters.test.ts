import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
let dir: string | undefined;
let child: ChildProcess | undefined;
afterEach(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  child = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The workspace packages and npm packages whose modules a recorded process loaded. */
function packagesIn(urls: readonly string[]): Set<string> {
  const names = new Set<string>();
  for (const url of urls) {
    const workspace = /\/packages\/([^/]+)\/(?:src|dist)\//.exec(url);
    if (workspace) names.add(`@docker-watcher/${workspace[1]}`);
    const npm = /\/node_modules\/\.pnpm\/[^/]+\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (npm) names.add(npm[1]!);
  }
  return names;
}

/** Starts `docker-watcher serve` on `config` (with `DIR` replaced), stops it once listening: the packages it loaded. */
async function packagesLoadedBy(configText: string): Promise<Set<string>> {
  dir = mkdtempSync(join(tmpdir(), 'dw-lazy-'));
  const config = join(dir, 'config.yml');
  const record = join(dir, 'modules.txt');
  writeFileSync(config, configText.replaceAll('DIR', dir));
  const server = spawn(
    process.execPath,
    [
      '--conditions=@docker-watcher/source',
      '--import',
      join(root, 'apps/server/test/fixtures/record-modules.ts'),
      join(root, 'apps/server/src/bin.ts'),
      'serve',
      '--no-watch',
      '--config',
      config,
    ],
    {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', DW_MODULE_RECORD: record },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child = server;
  const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
  const output: string[] = [];
  server.stderr!.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: server.stdout! }).on('line', (line) => {
      output.push(line);
      if (line.includes('docker-watcher is listening')) resolve();
    });
    server.on('exit', () => reject(new Error(`the server exited before listening:\n${output.join('\n')}`)));
  });
  server.kill('SIGTERM');
  expect(await exited).toBe(0);
  return packagesIn(readFileSync(record, 'utf8').split('\n'));
}

const project = `projects:
  app:
    registry: main
    image: 127.0.0.1:9/team/app
    stages:
      dev: { tag_pattern: "dev-*" }
`;

it('a server whose config names Docker, SQLite and an OCI registry never loads another adapter package', async () => {
  const loaded = await packagesLoadedBy(`global:
  store: "sqlite:DIR/state.db"
  target: { type: docker }
  poll_interval_seconds: 0
  server: { listen: "127.0.0.1:0" }
registries:
  main: { type: oci, url: "http://127.0.0.1:9" }
${project}`);
  // What the config names is loaded (so the record works)…
  for (const name of [
    '@docker-watcher/target-docker',
    '@docker-watcher/store-sqlite',
    '@docker-watcher/registry-oci',
  ])
    expect(loaded, name).toContain(name);
  // …and no other adapter, nor what only those adapters need.
  for (const name of [
    '@docker-watcher/target-nomad',
    '@docker-watcher/store-postgres',
    '@docker-watcher/proxy-npm',
    '@docker-watcher/proxy-caddy',
    '@docker-watcher/registry-gitea',
    '@docker-watcher/registry-ghcr',
    'pg',
  ])
    expect(loaded, name).not.toContain(name);
}, 180_000);

it('a server without a Docker target never loads the Docker client (label mode loads only when turned on)', async () => {
  const loaded = await packagesLoadedBy(`global:
  store: "sqlite:DIR/state.db"
  target: { type: memory }
  proxy: { type: memory }
  poll_interval_seconds: 0
  server: { listen: "127.0.0.1:0" }
registries:
  main: { type: oci, url: "http://127.0.0.1:9" }
${project}`);
  expect(loaded).toContain('@docker-watcher/store-sqlite');
  for (const name of ['@docker-watcher/target-docker', 'dockerode', 'ssh2', '@grpc/grpc-js'])
    expect(loaded, name).not.toContain(name);
}, 180_000);
