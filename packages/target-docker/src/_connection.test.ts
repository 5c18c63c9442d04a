import { describe, expect, it } from 'vitest';
import { connect } from './_connection.ts';

const pem = (kind: string) => `-----BEGIN ${kind}-----\nAAAA\n-----END ${kind}-----\n`;

describe('connection', () => {
  it('uses a socket path as given', () => {
    const { docker, describe: where } = connect({ socketPath: '/run/podman/podman.sock' });
    expect(where).toBe('/run/podman/podman.sock');
    expect(docker.modem).toMatchObject({ socketPath: '/run/podman/podman.sock' });
  });

  it('speaks http to tcp:// and https with TLS material', () => {
    const plain = connect({ dockerHost: 'tcp://10.0.0.5:2375' });
    expect(plain.describe).toBe('tcp://10.0.0.5:2375');
    expect(plain.docker.modem).toMatchObject({ protocol: 'http', host: '10.0.0.5', port: '2375' });
    const tls = connect({
      dockerHost: 'tcp://docker.example:2376',
      tls: { ca: pem('CERTIFICATE'), cert: pem('CERTIFICATE'), key: pem('PRIVATE KEY') },
      apiVersion: 'v1.41',
    });
    expect(tls.docker.modem).toMatchObject({
      protocol: 'https',
      host: 'docker.example',
      port: '2376',
      version: 'v1.41',
    });
  });

  it('connects over ssh with the user of the URL and the agent socket', () => {
    const ssh = connect({ dockerHost: 'ssh://deploy@docker.example' }, { SSH_AUTH_SOCK: '/tmp/agent.sock' });
    expect(ssh.describe).toBe('ssh://deploy@docker.example');
    expect(ssh.docker.modem).toMatchObject({
      protocol: 'ssh',
      host: 'docker.example',
      port: '22',
      username: 'deploy',
    });
    expect(ssh.docker.modem).toMatchObject({ sshOptions: { agent: '/tmp/agent.sock' } });
  });

  it('follows DOCKER_HOST when nothing is set, without echoing credentials', () => {
    expect(connect({}, { DOCKER_HOST: 'ssh://me@host' }).describe).toBe('ssh://host');
    expect(connect({}, {}).describe).toBe('/var/run/docker.sock');
  });
});
