import { expect, it } from 'vitest';
import { keepRepository, parseKeepMark } from './previous-images.ts';

it('marks a waiting removal with the container name in hex, and reads it back', () => {
  const name = 'shop-web-1';
  const repository = keepRepository(name);
  expect(repository).toBe(`docker-watcher-keep/${Buffer.from(name).toString('hex')}`);
  expect(parseKeepMark(`${repository}:1800000000`)).toEqual({ name, dueMs: 1_800_000_000_000 });
});

it('marks a name too long for hex by its hash, within the 255 characters the engine allows', () => {
  const short = 'a'.repeat(117);
  const long = 'a'.repeat(118);
  expect(keepRepository(short)).toHaveLength(20 + 2 * 117);
  const repository = keepRepository(long);
  expect(repository.length).toBeLessThanOrEqual(255);
  expect(repository).toMatch(/^docker-watcher-keep\/h[0-9a-f]{40}$/);
  expect(keepRepository(`${long}b`)).not.toBe(repository);
  expect(parseKeepMark(`${repository}:1800000000`)).toEqual({
    hash: repository.slice('docker-watcher-keep/h'.length),
    dueMs: 1_800_000_000_000,
  });
});

it('reads no mark from other references', () => {
  for (const reference of [
    'docker-watcher-keep/6:1',
    'docker-watcher-keep/zz:1',
    'docker-watcher-keep/h123:1',
    'docker-watcher-keep/6162:soon',
    'registry.example.com/team/web:1',
  ])
    expect(parseKeepMark(reference), reference).toBeUndefined();
});
