import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigFile } from '../src/config/load.ts';

const root = join(import.meta.dirname, '../../..');
const dir = join(root, 'examples/compose');

interface Service {
  build?: { context: string; dockerfile: string };
  image: string;
  environment?: Record<string, string>;
  volumes?: string[];
  networks?: string[];
  group_add?: string[];
}
const compose = parse(readFileSync(join(dir, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
  networks: Record<string, { name: string }>;
};
const watcher = compose.services.watcher!;
const mountOf = (service: Service, target: string) =>
  service.volumes?.find((v) => v.split(':')[1] === target)?.split(':')[0];
const envFile = readFileSync(join(dir, '.env.example'), 'utf8');

describe('examples/compose', () => {
  it('builds the server from apps/server/Dockerfile with the repository as context', () => {
    const context = resolve(dir, watcher.build!.context);
    expect(context).toBe(root);
    expect(existsSync(join(context, watcher.build!.dockerfile))).toBe(true);
  });

  it('mounts the config directory at /etc/docker-watcher, a volume at /data and the Docker socket', () => {
    expect(existsSync(join(dir, mountOf(watcher, '/etc/docker-watcher')!, 'config.yml'))).toBe(true);
    expect(mountOf(watcher, '/data')).toBe('watcher-data');
    expect(mountOf(watcher, '/var/run/docker.sock')).toBe('/var/run/docker.sock');
    expect(watcher.group_add?.[0]).toContain('${DOCKER_GID:?');
  });

  it('the example config is valid with the environment compose passes, and every variable is in .env.example', async () => {
    const names = Object.keys(watcher.environment ?? {});
    for (const name of [...names, 'DOCKER_GID']) expect(envFile).toMatch(new RegExp(`^${name}=$`, 'm'));
    const env = Object.fromEntries(names.map((n) => [n, `${n.toLowerCase()}-value-0123456789abcdef`]));
    const config = await loadConfigFile(join(dir, 'config/config.yml'), env);
    expect(config.store).toMatchObject({ type: 'sqlite' });
    // Every secret the config reads comes from compose's environment.
    const wanted = [...readFileSync(join(dir, 'config/config.yml'), 'utf8').matchAll(/_env: (\w+)/g)].map(
      (m) => m[1],
    );
    expect(names.sort()).toEqual([...new Set(wanted)].sort());
  });

  it('the watcher, NPM and the apps share the network the config names', () => {
    const config = parse(readFileSync(join(dir, 'config/config.yml'), 'utf8')) as {
      global: { network: string; npm: { url: string } };
    };
    const network = compose.networks[compose.services.npm!.networks![0]!]!.name;
    expect(config.global.network).toBe(network);
    expect(watcher.networks).toContain(compose.services.npm!.networks![0]);
    expect(config.global.npm.url).toBe('http://npm:81');
    expect(compose.services.npm!.image).toMatch(/^jc21\/nginx-proxy-manager:/);
  });
});
