import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { appFixture } from '../../src/fixture-images.ts';
import { hostLinks } from '../../src/machine-state.ts';
import { removePrivateEngines, startPrivateEngine } from '../../src/private-engine.ts';

const mountsUnder = (dir: string) =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.split(' ')[4]?.startsWith(dir));

function processesOf(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmdline.includes(dir)) found.push(cmdline.replaceAll('\0', ' '));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The host's own devices (not the veths and bridges of the shared engine's containers and networks). */
const links = async (namespace?: string) =>
  namespace
    ? (await promisify(execFile)('ip', ['-n', namespace, '-o', 'link', 'show'])).stdout
        .split('\n')
        .map((line) => /^\d+:\s+([^:@\s]+)/.exec(line)?.[1])
        .filter(Boolean)
    : hostLinks();

describe('a private Docker Engine', () => {
  it('runs containers in a network namespace of its own, survives a restart and a crash, and leaves nothing', async () => {
    const hostBefore = await links();
    // The shared engine (started by the global setup) has its default bridge.
    expect(hostBefore).toContain('docker0');
    const engine = await startPrivateEngine();
    const hostLink = `dwpe${engine.addressPool.split('.')[1]}h`;
    try {
      // Its own docker0, in its own namespace; on the host only the veth to it is new.
      expect(await links(engine.namespace)).toContain('docker0');
      expect(await links()).toEqual([...hostBefore, hostLink].sort());
      expect(engine.addressPool).toMatch(/^10\.(1[6-9]\d|2[0-4]\d)\.0\.0\/16$/);
      const v1 = appFixture('v1').ref;
      await engine.loadImages([v1]);
      await engine.docker.createNetwork({ Name: 'private-test' });
      const container = await engine.docker.createContainer({
        Image: v1,
        StopTimeout: 1,
        ExposedPorts: { '8080/tcp': {} },
        HostConfig: {
          NetworkMode: 'private-test',
          RestartPolicy: { Name: 'unless-stopped' },
          PortBindings: { '8080/tcp': [{ HostIp: engine.publishHost, HostPort: '' }] },
        },
      });
      await container.start();
      // The host reaches a published port at the engine's address.
      const port = (await container.inspect()).NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
      await expect
        .poll(() => fetch(`http://${engine.publishHost}:${port}/version`).then((r) => r.text(), String), {
          timeout: 10_000,
        })
        .toBe('v1\n');
      const network = await engine.docker.getNetwork('private-test').inspect();
      expect(
        network.IPAM?.Config?.[0]?.Subnet?.startsWith(engine.addressPool.split('.').slice(0, 2).join('.')),
      ).toBe(true);

      let downAnswered: boolean | undefined;
      await engine.restart({
        downMs: 300,
        whileDown: async () => {
          downAnswered = await engine.docker.ping().then(
            () => true,
            () => false,
          );
        },
      });
      expect(downAnswered).toBe(false);
      // A graceful restart: the restart policy brings the container back.
      expect((await container.inspect()).State.Running).toBe(true);

      await engine.restart({ crash: true });
      expect(engine.running()).toBe(true);
      expect(await engine.docker.ping()).toBeTruthy();
      // Restarts with an address pool made moby delete a docker0 it found stale: its own, not the host's.
      expect(await links()).toEqual([...hostBefore, hostLink].sort());
    } finally {
      await engine.dispose();
    }
    expect(existsSync(engine.dir)).toBe(false);
    expect(mountsUnder(engine.dir)).toEqual([]);
    expect(processesOf(engine.dir)).toEqual([]);
    expect(await links()).toEqual(hostBefore);
    expect((await promisify(execFile)('ip', ['netns', 'list'])).stdout).not.toContain(engine.namespace);
    await engine.dispose();
  }, 90_000);

  it('removes the engine of a test process that ended without dispose()', async () => {
    const hostBefore = await links();
    const script = `
      import { startPrivateEngine } from ${JSON.stringify(join(import.meta.dirname, '../../src/private-engine.ts'))};
      const engine = await startPrivateEngine();
      await engine.docker.createNetwork({ Name: 'left-behind' });
      console.log(engine.dir);
    `;
    const env = { ...process.env };
    // Owned by the child itself, so it is an orphan as soon as the child has exited.
    delete env.DW_TESTKIT_RUN;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=@docker-watcher/source', '--input-type=module', '-e', script],
      { env, timeout: 60_000 },
    );
    const dir = stdout.trim();
    expect(existsSync(join(dir, 'engine.json'))).toBe(true);
    expect(await removePrivateEngines('orphans')).toBeGreaterThanOrEqual(1);
    expect(existsSync(dir)).toBe(false);
    expect(mountsUnder(dir)).toEqual([]);
    expect(processesOf(dir)).toEqual([]);
    // Its network 'left-behind' was a bridge inside its namespace, gone with it.
    expect(await links()).toEqual(hostBefore);
  }, 90_000);
});
