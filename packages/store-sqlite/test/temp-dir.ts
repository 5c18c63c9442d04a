import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder under the OS temp dir, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'store-sqlite-test-'));
  dirs.push(dir);
  return dir;
}

export function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export const digest = (char: string): string => `sha256:${char.repeat(64)}`;

/** Two 32-byte keys, one written as hex and one as base64, as an operator would put them into the environment. */
export const keys = {
  first: '0f'.repeat(32),
  second: Buffer.alloc(32, 7).toString('base64'),
  third: Buffer.alloc(32, 9).toString('base64url'),
} as const;
