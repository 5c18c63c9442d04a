import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  assertPortFree,
  buildFixtureImage,
  dockerClient,
  ensureDockerEngine,
  isTestkitError,
  libtrustKeyId,
  removeTestkitResources,
  startRegistry,
  type TestkitError,
  testkitLabels,
} from '../src/index.ts';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dw-testkit-test-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function caught(promise: Promise<unknown>): Promise<TestkitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isTestkitError(error), `expected a TestkitError, got ${String(error)}`).toBe(true);
  return error as TestkitError;
}

describe('bad states get a message that says what is wrong and what to do', () => {
  it('not root and no engine', async () => {
    const error = await caught(
      ensureDockerEngine({ socketPath: join(tempDir(), 'docker.sock'), root: false, dockerdCandidates: [] }),
    );
    expect(error.message).toContain('No Docker Engine answers');
    expect(error.message).toContain('needs root');
    expect(error.hint).toMatch(/run the tests as root/i);
  });

  it('dockerd installed but not running, and not root', async () => {
    const error = await caught(
      ensureDockerEngine({
        socketPath: join(tempDir(), 'docker.sock'),
        root: false,
        dockerdCandidates: ['/bin/sh'],
      }),
    );
    expect(error.message).toContain('starting dockerd needs root');
  });

  it('a socket that exists but an engine that does not answer', async () => {
    // A listener that accepts connections and never says anything, while dockerd is running (the real one).
    const socketPath = join(tempDir(), 'silent.sock');
    const sockets = new Set<Socket>();
    const silent: Server = createNetServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(socketPath, resolve));
    cleanups.push(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => silent.close(resolve));
    });
    const error = await caught(ensureDockerEngine({ socketPath }));
    expect(error.message).toContain(`A Docker socket exists at ${socketPath}`);
    expect(error.message).toContain('does not answer /_ping');
  });

  it('uses an engine that answers and will not stop it', async () => {
    const engine = await ensureDockerEngine();
    // One it started would be the shared engine of every test now: never stop that one here.
    expect(engine.startedByUs).toBe(false);
    await engine.stop();
    expect((await dockerClient().ping()).toString()).toBe('OK');
  });

  it('a port in use', async () => {
    const busy = createNetServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => busy.close(resolve)));
    const port = (busy.address() as { port: number }).port;
    const direct = await caught(assertPortFree(port, 'local registry'));
    expect(direct.message).toContain(`Port ${port} on 127.0.0.1 is in use`);
    const viaRegistry = await caught(startRegistry({ port }));
    expect(viaRegistry.message).toContain('the local registry cannot listen there');
  });

  it('a fixture build that fails', async () => {
    const error = await caught(
      buildFixtureImage(dockerClient(), {
        ref: 'dw-testkit/broken:latest',
        dockerfile: 'FROM scratch\nCOPY missing-file /missing-file\n',
        files: {},
      }),
    );
    expect(error.message).toContain('Building fixture image dw-testkit/broken:latest failed');
  });

  it('a fixture whose source file is missing', async () => {
    const error = await caught(
      buildFixtureImage(dockerClient(), {
        ref: 'dw-testkit/broken:latest',
        dockerfile: 'FROM scratch\nCOPY thing /thing\n',
        files: { thing: { from: join(tempDir(), 'not-there') } },
      }),
    );
    expect(error.message).toContain('which is missing');
  });
});

describe('cleanup', () => {
  it('removes every labelled container and network, also ones an earlier run left behind', async () => {
    const docker = dockerClient();
    const network = await docker.createNetwork({
      Name: `dw-testkit-leftover-${process.pid}`,
      Labels: testkitLabels({ 'docker-watcher.testkit.pid': '1' }),
    });
    const container = await docker.createContainer({
      Image: 'dw-testkit/app:v1',
      Labels: testkitLabels({ 'docker-watcher.testkit.pid': '1' }),
    });
    const removed = await removeTestkitResources(docker, 1);
    expect(removed).toBe(2);
    await expect(container.inspect()).rejects.toThrow();
    await expect(network.inspect()).rejects.toThrow();
  });
});

describe('token key id', () => {
  it('is twelve colon-separated groups of four base32 characters', () => {
    expect(libtrustKeyId(Buffer.from('any key bytes'))).toMatch(/^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
    expect(existsSync('/usr/bin/openssl')).toBe(true);
  });
});
