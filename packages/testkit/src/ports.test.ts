import { describe, expect, it } from 'vitest';
import { freePort } from './ports.ts';

describe('freePort', () => {
  // The kernel may name a just-closed port again; with a few hundred asks it nearly always does.
  it('never hands out the same port twice in one process', async () => {
    const ports: number[] = [];
    for (let i = 0; i < 600; i++) ports.push(await freePort());
    expect(new Set(ports).size).toBe(ports.length);
  });
});
