import type { InstanceSpec } from '@docker-watcher/core';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { containerPort, createOptions, imageFacts } from './_container-spec.ts';
import type { StageSettings } from './_settings.ts';

const digest = `sha256:${'a'.repeat(64)}`;
const spec: InstanceSpec = {
  project: 'web',
  stage: 'dev',
  deployId: 'd1',
  image: 'registry.example/web',
  release: { tag: 'v1', digest },
  env: { FROM_SPEC: '1', SHARED: 'spec' },
};
const settings: StageSettings = {
  env: { SHARED: 'settings', FROM_SETTINGS: '1' },
  envFiles: [],
  volumes: [],
  restartPolicy: 'no',
  labels: {},
  publish: false,
};

const input = (overrides: Partial<Parameters<typeof createOptions>[0]> = {}) =>
  createOptions({
    name: 'dw-web-dev-v1-aaaaaaaaaaaa',
    spec,
    settings,
    fileEnv: { FROM_FILE: '1', SHARED: 'file' },
    port: 8080,
    network: 'dw',
    publishHost: '127.0.0.1',
    stopTimeoutSeconds: 3,
    ...overrides,
  });

describe('create options', () => {
  it('run the image by digest on the network, env from files < settings < spec', () => {
    const body = input();
    expect(body.Image).toBe(`registry.example/web@${digest}`);
    expect(body.Env).toEqual(['FROM_FILE=1', 'SHARED=spec', 'FROM_SETTINGS=1', 'FROM_SPEC=1']);
    expect(body.ExposedPorts).toEqual({ '8080/tcp': {} });
    expect(body.StopTimeout).toBe(3);
    expect(body.HostConfig).toEqual({ NetworkMode: 'dw', RestartPolicy: { Name: '' } });
  });

  it('publish on a random or a fixed loopback port', () => {
    expect(input({ settings: { ...settings, publish: true } }).HostConfig?.PortBindings).toEqual({
      '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }],
    });
    expect(input({ settings: { ...settings, publish: 18080 } }).HostConfig?.PortBindings).toEqual({
      '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '18080' }],
    });
    // Nothing to publish without a port.
    expect(
      input({ port: undefined, settings: { ...settings, publish: true } }).HostConfig?.PortBindings,
    ).toBeUndefined();
  });

  it('set limits, mounts and the restart policy', () => {
    const body = input({
      settings: { ...settings, memory: 1024, cpus: 1.5, volumes: ['data:/data'], restartPolicy: 'always' },
    });
    expect(body.HostConfig).toMatchObject({
      Memory: 1024,
      NanoCpus: 1_500_000_000,
      Binds: ['data:/data'],
      RestartPolicy: { Name: 'always' },
    });
  });
});

describe('image facts', () => {
  const info = (config: Partial<Docker.ImageInspectInfo['Config']>) =>
    ({ Config: config }) as unknown as Docker.ImageInspectInfo;

  it('read EXPOSEd TCP ports, lowest first', () => {
    const facts = imageFacts(info({ ExposedPorts: { '53/udp': {}, '9090': {}, '3000/tcp': {} } }));
    expect(facts).toEqual({ exposed: [3000, 9090] });
    expect(imageFacts(info({})).exposed).toEqual([]);
  });

  it('the spec port wins over EXPOSE', () => {
    const facts = { exposed: [3000] };
    expect(containerPort({ ...spec, port: 8080 }, facts)).toBe(8080);
    expect(containerPort(spec, facts)).toBe(3000);
    expect(containerPort(spec, { ...facts, exposed: [] })).toBeUndefined();
  });
});
