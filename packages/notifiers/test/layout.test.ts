import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname, '../src');
const files = readdirSync(src, { recursive: true })
  .map(String)
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'));

describe('package layout', () => {
  it('loads nodemailer only when the email channel sends: no module imports it eagerly', () => {
    const eager = files.filter((file) =>
      /^import (?!type )[^;]*from 'nodemailer'/m.test(readFileSync(join(src, file), 'utf8')),
    );
    expect(eager).toEqual([]);
    expect(readFileSync(join(src, 'email/email-notifier.ts'), 'utf8')).toContain(
      "await import('nodemailer')",
    );
  });

  it('gives every channel the same skeleton, and a subpath export', () => {
    const channels = [
      'slack',
      'discord',
      'teams',
      'telegram',
      'ntfy',
      'gotify',
      'matrix',
      'email',
      'generic',
    ];
    const manifest = JSON.parse(readFileSync(join(src, '../package.json'), 'utf8')) as {
      exports: Record<string, unknown>;
    };
    for (const channel of channels) {
      const own = files.filter((file) => file.startsWith(`${channel}/`) && !file.includes('/_')).sort();
      expect(own).toEqual(
        [
          `${channel}/${channel}-notifier.ts`,
          `${channel}/index.ts`,
          `${channel}/options.ts`,
          `${channel}/render.ts`,
          `${channel}/service-url.ts`,
        ].sort(),
      );
      expect(manifest.exports[`./${channel}`]).toBeDefined();
    }
  });
});
