import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { replacementOf } from './replacement.ts';

/** The parts of `docker inspect` the decision reads; a container on a user-defined network by default. */
function inspected(change: {
  mode?: string;
  ports?: Record<string, Array<{ HostIp?: string; HostPort?: string }>>;
  networks?: Record<string, { IPAMConfig?: Record<string, string> | null }>;
  mounts?: Array<{ Type: string; RW: boolean; Destination: string }>;
  labels?: Record<string, string>;
}): Docker.ContainerInspectInfo {
  return {
    Config: { Labels: change.labels ?? {} },
    HostConfig: { NetworkMode: change.mode ?? 'app-net', PortBindings: change.ports ?? {} },
    NetworkSettings: { Networks: change.networks ?? { 'app-net': { IPAMConfig: null } } },
    Mounts: change.mounts ?? [],
  } as unknown as Docker.ContainerInspectInfo;
}

describe('how an update replaces a labelled container', () => {
  it('side by side on a user-defined network, with random host ports and read-only mounts', () => {
    expect(replacementOf(inspected({}))).toEqual({ mode: 'side-by-side' });
    expect(
      replacementOf(
        inspected({
          ports: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }, { HostPort: '0' }] },
          mounts: [{ Type: 'bind', RW: false, Destination: '/etc/app' }],
        }),
      ),
    ).toEqual({ mode: 'side-by-side' });
  });

  it.each([
    [
      'a fixed host port',
      { ports: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '8081' }] } },
      'fixed host port 127.0.0.1:8081->8080/tcp',
    ],
    [
      'a static address',
      { networks: { 'app-net': { IPAMConfig: { IPv4Address: '172.30.0.9' } } } },
      'static IP address on network app-net',
    ],
    ["another container's network", { mode: 'container:0123abcd' }, 'network_mode container:…'],
    ['the host network', { mode: 'host' }, 'network_mode host'],
    [
      'the default bridge',
      { mode: 'default' },
      'on the default bridge network, where nothing reaches a container by name',
    ],
    [
      'a writable volume',
      { mounts: [{ Type: 'volume', RW: true, Destination: '/data' }] },
      'writes to a mount at /data',
    ],
    ['the label', { labels: { 'docker-watcher.update': 'in-place' } }, 'docker-watcher.update=in-place'],
  ])('in place with %s, saying why', (_what, change, reason) => {
    expect(replacementOf(inspected(change))).toEqual({ mode: 'in-place', reason });
  });

  it('side by side with a writable mount when the label asks for it, never with a fixed port', () => {
    const labels = { 'docker-watcher.update': 'side-by-side' };
    const mounts = [{ Type: 'volume', RW: true, Destination: '/data' }];
    expect(replacementOf(inspected({ labels, mounts }))).toEqual({ mode: 'side-by-side' });
    expect(replacementOf(inspected({ labels, ports: { '80/tcp': [{ HostPort: '80' }] } })).mode).toBe(
      'in-place',
    );
  });
});
