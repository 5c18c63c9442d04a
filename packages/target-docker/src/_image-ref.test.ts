import { describe, expect, it } from 'vitest';
import { credentialsFor, registryHost, serverAddress } from './_image-ref.ts';

describe('image references', () => {
  it('name their registry host as Docker reads it', () => {
    expect(registryHost('nginx')).toBe('docker.io');
    expect(registryHost('team/app')).toBe('docker.io');
    expect(registryHost('ghcr.io/team/app')).toBe('ghcr.io');
    expect(registryHost('127.0.0.1:5000/team/app')).toBe('127.0.0.1:5000');
    expect(registryHost('localhost/app')).toBe('localhost');
    expect(registryHost('index.docker.io/library/nginx')).toBe('docker.io');
  });

  it('find credentials by host, Docker Hub under any of its names', () => {
    const auth = { 'ghcr.io': 'gh', 'index.docker.io': 'hub' };
    expect(credentialsFor(auth, 'ghcr.io')).toBe('gh');
    expect(credentialsFor(auth, 'docker.io')).toBe('hub');
    expect(credentialsFor(auth, 'quay.io')).toBeUndefined();
    expect(credentialsFor(undefined, 'ghcr.io')).toBeUndefined();
    expect(serverAddress('docker.io')).toBe('https://index.docker.io/v1/');
    expect(serverAddress('ghcr.io')).toBe('ghcr.io');
  });
});
