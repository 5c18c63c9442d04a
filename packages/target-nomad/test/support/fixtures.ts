import { readFileSync } from 'node:fs';

/** A sample of Nomad's API from `test/fixtures/`, parsed afresh on every call (callers may change it). */
export function fixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

const hex = (n: number) => n.toString(16).padStart(64, '0');

/** Releases of the fake's fixture image: the fake decides how each behaves by its digest. */
export const releases = {
  v1: { tag: 'v1.0.0', digest: `sha256:${hex(1)}` },
  v2: { tag: 'v1.1.0', digest: `sha256:${hex(2)}` },
  v3: { tag: 'v1.2.0', digest: `sha256:${hex(3)}` },
  unhealthy: { tag: 'v9.0.0-unhealthy', digest: `sha256:${hex(0x0b0b)}` },
  crashing: { tag: 'v9.0.1-crashing', digest: `sha256:${hex(0xdead)}` },
  blocked: { tag: 'v9.0.2-blocked', digest: `sha256:${hex(0xb10c)}` },
  stuck: { tag: 'v9.0.3-stuck', digest: `sha256:${hex(0x5700)}` },
} as const;

export const image = 'registry.test/team/web-app';
