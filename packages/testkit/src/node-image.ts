import { realpathSync } from 'node:fs';
import type Docker from 'dockerode';
import { runCommand } from './command.ts';
import { ensureDebianPackage } from './debian-packages.ts';
import { buildFixtureImage, type FixtureImage } from './fixture-images.ts';
import { TestkitError } from './testkit-error.ts';

export const nodeImage = 'dw-testkit/node';

/** The shared libraries a dynamically linked binary loads, as `ldd` resolves them on this host. */
export async function sharedLibraries(binary: string): Promise<string[]> {
  const result = await runCommand('ldd', [binary]);
  if (result.code !== 0) {
    throw new TestkitError(`ldd ${binary} failed: ${result.stderr.trim()}`, 'Install libc-bin (ldd).');
  }
  const libraries = new Set<string>();
  for (const line of result.stdout.split('\n')) {
    // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)` or the loader: `/lib64/ld-linux-x86-64.so.2 (0x…)`
    const path = /=>\s*(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)\s+\(/.exec(line)?.[1];
    if (path) libraries.add(path);
  }
  return [...libraries].sort();
}

// busybox answers as the applet it is called by, so one copy per name stands in for each tool.
const tools = ['bin/sh', 'bin/mkdir', 'bin/chown', 'bin/ln', 'usr/bin/env'];

/**
 * A stand-in for the official `node:<major>-slim` image, which cannot be pulled here: FROM scratch
 * with this host's Node binary at /usr/local/bin/node (where the official image has it), the
 * libraries it links, `root` and `node` (uid and gid 1000) users, and busybox as /bin/sh, mkdir,
 * chown, ln and /usr/bin/env, the tools a Dockerfile on the official image may use. Its tag is the
 * host Node's major version.
 */
export async function nodeBaseFixture(execPath: string = process.execPath): Promise<FixtureImage> {
  const node = realpathSync(execPath);
  const version = await runCommand(node, ['--version']);
  const major = /^v(\d+)\./.exec(version.stdout.trim())?.[1];
  if (!major)
    throw new TestkitError(`Cannot tell the version of ${node}`, 'Point execPath at a Node binary.');
  const files: FixtureImage['files'] = {
    'root/usr/local/bin/node': { from: node },
    'root/etc/passwd': 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n',
    'root/etc/group': 'root:x:0:\nnode:x:1000:\n',
    'root/tmp/.keep': '',
    'root/home/node/.keep': '',
  };
  for (const library of await sharedLibraries(node)) files[`root${library}`] = { from: library };
  for (const tool of tools) files[`root/${tool}`] = { from: '/bin/busybox' };
  return {
    ref: `${nodeImage}:${major}`,
    dockerfile: [
      'FROM scratch',
      'COPY root/ /',
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      `LABEL org.opencontainers.image.title="docker-watcher testkit stand-in for node:${major}-slim"`,
      'CMD ["node"]',
      '',
    ].join('\n'),
    files,
    cache: true,
  };
}

/** Builds the Node base stand-in unless an image of the same content exists; returns its ref. */
export async function buildNodeBaseImage(docker: Docker, execPath?: string): Promise<string> {
  await ensureDebianPackage('busybox-static', '/bin/busybox');
  const image = await nodeBaseFixture(execPath);
  await buildFixtureImage(docker, image);
  return image.ref;
}
